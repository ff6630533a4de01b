// gb_bench_launch: OIDC login and launch-validation throughput of a running `gradebridge serve`.
//
// The bench plays the platform: it generates an RSA-2048 key, serves its JWKS from an in-process
// HttpServer, registers itself with the gradebridge CLI, starts `gradebridge serve` as a child and
// drives it over loopback with the epoll load generator (http_load.h).
//
//   phase 1  logins:    GET /lti/login ...                      each must answer 302
//   phase 2  collect:   logins whose (state, nonce, cookie) are kept for phase 3 (untimed for the
//                       report's purpose, but its rate is printed too); then id_tokens are signed,
//                       all before the clock of phase 3 starts
//   phase 3  launches:  POST /lti/launch id_token+state + cookie each must answer 303
//
// Then, for context, the single-core RS256 verify rate in-process (jose) and, if present,
// `openssl speed -seconds 3 rsa2048`. Every phase is bounded (request counts, wall-clock cap).
//
// Usage: gb_bench_launch [--logins N] [--launches N] [--connections C] [--client-threads T]
//                        [--server-threads T] [--phase-timeout S] [--warmup N] [--binary PATH]
//                        [--dir PATH] [--crypto-seconds S] [--no-openssl-speed] [--json]
//                        [--perf-phase logins|launches] [--perf-out FILE] [--perf-args ARGS]
// --perf-phase runs `perf ARGS -p <server pid> -o FILE` (perf from PATH) for that timed phase only.
#include <fcntl.h>
#include <signal.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "http/message.h"
#include "bench_util.h"
#include "http_load.h"
#include "jose/jose.h"
#include "lti/claims.h"
#include "process.h"
#include "server/http_server.h"
#include "server/router.h"

namespace gb::bench {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr char kClientId[] = "bench-client";
constexpr char kDeploymentId[] = "dep-1";
constexpr char kTargetUrl[] = "http://127.0.0.1:9/tool";
constexpr char kLearnerRole[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

struct Flags {
  size_t logins = 100'000;
  size_t launches = 40'000;
  int connections = 64;
  int client_threads = 1;
  int server_threads = 2;
  int phase_timeout_s = 60;
  size_t warmup = 2'000;
  std::string binary = GB_BINARY;
  std::string dir;
  double crypto_seconds = 2.0;
  bool openssl_speed = true;
  bool json = false;
  // Profiling: `perf <perf_args> -p <server pid> -o <perf_out>` runs during one timed phase.
  std::string perf_phase;  // "logins" or "launches"
  std::string perf_out = "perf.data";
  std::string perf_args = "record -F 999 -g";
};

[[noreturn]] void Usage(const char* why) {
  std::cerr << "gb_bench_launch: " << why << "\n"
            << "usage: gb_bench_launch [--logins N] [--launches N] [--connections C] [--client-threads T]\n"
               "                       [--server-threads T] [--phase-timeout S] [--warmup N] [--binary PATH]\n"
               "                       [--dir PATH] [--crypto-seconds S] [--no-openssl-speed] [--json]\n"
               "                       [--perf-phase logins|launches] [--perf-out FILE] [--perf-args 'record -F 999 -g']\n";
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    auto number = [&](long long lo, long long hi) -> long long {
      std::string v = value();
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < lo || n > hi) Usage(("bad value for " + a + ": " + v).c_str());
      return n;
    };
    if (a == "--logins") {
      f.logins = static_cast<size_t>(number(0, 100'000'000));
    } else if (a == "--launches") {
      f.launches = static_cast<size_t>(number(0, 10'000'000));
    } else if (a == "--connections") {
      f.connections = static_cast<int>(number(1, 10'000));
    } else if (a == "--client-threads") {
      f.client_threads = static_cast<int>(number(1, 64));
    } else if (a == "--server-threads") {
      f.server_threads = static_cast<int>(number(1, 256));
    } else if (a == "--phase-timeout") {
      f.phase_timeout_s = static_cast<int>(number(1, 3600));
    } else if (a == "--warmup") {
      f.warmup = static_cast<size_t>(number(0, 10'000'000));
    } else if (a == "--binary") {
      f.binary = value();
    } else if (a == "--dir") {
      f.dir = value();
    } else if (a == "--crypto-seconds") {
      std::string v = value();
      char* end = nullptr;
      f.crypto_seconds = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !(f.crypto_seconds >= 0 && f.crypto_seconds <= 600)) {
        Usage(("bad value for --crypto-seconds: " + v).c_str());
      }
    } else if (a == "--no-openssl-speed") {
      f.openssl_speed = false;
    } else if (a == "--perf-phase") {
      f.perf_phase = value();
      if (f.perf_phase != "logins" && f.perf_phase != "launches") Usage("--perf-phase takes logins or launches");
    } else if (a == "--perf-out") {
      f.perf_out = value();
    } else if (a == "--perf-args") {
      f.perf_args = value();
    } else if (a == "--json") {
      f.json = true;
    } else if (a == "--help" || a == "-h") {
      Usage("help");
    } else {
      Usage(("unknown flag " + a).c_str());
    }
  }
  return f;
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    std::string candidate = d + "/" + name;
    if (!d.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "/usr/bin/" + name;
}

// Latency of a 4 KiB pwrite + fdatasync in `dir` (what each SQLite commit waits for), microseconds.
struct FsyncLatency {
  double p50_us = 0, p90_us = 0;
};
FsyncLatency ProbeFsync(const std::string& dir, int rounds = 100) {
  FsyncLatency out;
  std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return out;
  std::string block(4096, 'x');
  std::vector<double> us;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = SteadyClock::now();
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) != 4096 || ::fdatasync(fd) != 0) break;
    us.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (us.empty()) return out;
  std::sort(us.begin(), us.end());
  out.p50_us = us[us.size() / 2];
  out.p90_us = us[us.size() * 9 / 10];
  return out;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}


std::string Fixed(double v, int digits = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string FsType(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext2/3/4";
    case 0x01021994: return "tmpfs";
    case 0x9123683E: return "btrfs";
    case 0x58465342: return "xfs";
    case 0x794C7630: return "overlayfs";
    default: {
      std::ostringstream o;
      o << "0x" << std::hex << static_cast<unsigned long>(s.f_type);
      return o.str();
    }
  }
}

void PrintPhase(const std::string& name, const LoadResult& r, int expected, double server_cpu = -1) {
  std::cout << "  " << name << ": " << r.requests << " requests, " << r.ok << " x " << expected << ", " << r.errors
            << " errors (wrong status " << r.wrong_status << ", transport " << r.transport_errors << ", unfinished "
            << r.unfinished << "), " << Fixed(r.seconds, 3) << " s, " << Fixed(r.ok_rate()) << " ok/s; latency p50 "
            << Fixed(r.p50_us / 1000.0, 2) << " ms, p90 " << Fixed(r.p90_us / 1000.0, 2) << " ms, p99 "
            << Fixed(r.p99_us / 1000.0, 2) << " ms, max " << Fixed(r.max_us / 1000.0, 2) << " ms"
            << (r.reconnects ? ", reconnects " + std::to_string(r.reconnects) : std::string()) << "\n";
  if (server_cpu >= 0 && r.completed > 0 && r.seconds > 0) {
    std::cout << "    CPU: server " << Fixed(server_cpu, 2) << " s (" << Fixed(server_cpu * 1e6 / static_cast<double>(r.completed), 1)
              << " us/request, " << Fixed(server_cpu / r.seconds * 100, 0) << " % of one core), load generator "
              << Fixed(r.client_cpu_seconds, 2) << " s (" << Fixed(r.client_cpu_seconds * 1e6 / static_cast<double>(r.completed), 1)
              << " us/request, " << Fixed(r.client_cpu_seconds / r.seconds * 100, 0) << " %)\n";
  }
  if (!r.first_error.empty()) std::cout << "    first error: " << r.first_error << "\n";
}

json PhaseJson(const LoadResult& r, double server_cpu) {
  return {{"server_cpu_s", server_cpu}, {"client_cpu_s", r.client_cpu_seconds},
          {"requests", r.requests},      {"ok", r.ok},
          {"errors", r.errors},          {"wrong_status", r.wrong_status},
          {"transport_errors", r.transport_errors}, {"unfinished", r.unfinished},
          {"seconds", r.seconds},        {"rate", r.ok_rate()},
          {"p50_ms", r.p50_us / 1000.0}, {"p90_ms", r.p90_us / 1000.0},
          {"p99_ms", r.p99_us / 1000.0}, {"max_ms", r.max_us / 1000.0}};
}

struct LaunchCredentials {
  std::string state, nonce, cookie;  // cookie: "gb_lti_<state>=<value>"
  bool ok = false;
};

// Parses a login answer: state and nonce from the Location query, the state cookie from Set-Cookie.
LaunchCredentials ParseLogin(const HttpResponseView& r) {
  LaunchCredentials c;
  if (r.status != 302) return c;
  auto location = r.Header("Location");
  if (!location) return c;
  size_t q = location->find('?');
  if (q == std::string_view::npos) return c;
  auto fields = ParseForm(location->substr(q + 1));
  if (!fields) return c;
  c.state = FormValue(*fields, "state").value_or("");
  c.nonce = FormValue(*fields, "nonce").value_or("");
  if (c.state.empty() || c.nonce.empty()) return c;
  std::string prefix = "gb_lti_" + c.state + "=";
  for (std::string_view sc : r.Headers("Set-Cookie")) {
    if (sc.substr(0, prefix.size()) == prefix) {
      c.cookie = std::string(sc.substr(0, sc.find(';')));
      break;
    }
  }
  c.ok = !c.cookie.empty();
  return c;
}

// Runs `openssl speed -seconds 3 rsa2048` and returns its RSA-2048 verify/s, or 0 if it cannot.
double OpensslVerifyRate(std::string& raw_line) {
  const char* candidates[] = {"/usr/bin/openssl", "/usr/local/bin/openssl"};
  std::string exe;
  for (const char* c : candidates) {
    if (::access(c, X_OK) == 0) {
      exe = c;
      break;
    }
  }
  if (exe.empty()) return 0;
  auto r = gb::testing::RunCommand({exe, "speed", "-seconds", "3", "rsa2048"}, std::chrono::seconds(120));
  if (r.exit_code != 0) return 0;
  // Header: "                  sign    verify    sign/s verify/s" (3.0; later versions add columns)
  // Values: "rsa 2048 bits 0.000650s 0.000019s   1538.5  52000.1"
  std::istringstream in(r.out);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (std::find(tok.begin(), tok.end(), "verify/s") != tok.end()) header = tok;
    if (tok.size() > 3 && tok[0] == "rsa" && tok[1] == "2048" && tok[2] == "bits" && !header.empty()) {
      auto it = std::find(header.begin(), header.end(), "verify/s");
      size_t col = static_cast<size_t>(it - header.begin());
      if (3 + col < tok.size()) {
        raw_line = line;
        return std::strtod(tok[3 + col].c_str(), nullptr);
      }
    }
  }
  return 0;
}

int Run(const Flags& flags) {
  using gb::testing::ChildProcess;
  using gb::testing::RunCommand;

  // --- working directory ----------------------------------------------------------------------
  std::unique_ptr<gb::testing::TempDir> temp;
  std::string dir = flags.dir;
  if (dir.empty()) {
    temp = std::make_unique<gb::testing::TempDir>();
    dir = temp->path();
  } else {
    std::filesystem::create_directories(dir);
  }
  const std::string db = "sqlite:" + dir + "/b.db";
  const std::string key_file = dir + "/b.key";
  const std::string port_file = dir + "/gb.port";
  std::cout << "gradebridge launch benchmark\n"
            << "  binary: " << flags.binary << "\n"
            << "  work dir: " << dir << " (" << FsType(dir) << ")\n"
            << "  logins " << flags.logins << ", launches " << flags.launches << ", connections "
            << flags.connections << ", client threads " << flags.client_threads << ", server threads "
            << flags.server_threads << ", warm-up " << flags.warmup << ", phase cap " << flags.phase_timeout_s
            << " s\n"
            << "  load average at start: " << LoadAverage() << " (on " << std::thread::hardware_concurrency()
            << " CPUs: other work on the machine competes with this benchmark)\n";

  // --- the platform: key and JWKS ---------------------------------------------------------------
  auto platform_key = jose::RsaPrivateKey::Generate(2048);
  if (!platform_key.ok()) {
    std::cerr << "key generation failed: " << platform_key.status().ToString() << "\n";
    return 1;
  }
  const jose::RsaPublicKey platform_pub = platform_key->PublicKey();
  const std::string kid = jose::Thumbprint(platform_pub);
  jose::Jwks jwks;
  jwks.Add(jose::Jwk{kid, "RS256", "sig", platform_pub});
  const std::string jwks_json = jwks.ToJson();
  auto jwks_hits = std::make_shared<std::atomic<int>>(0);

  server::Router router;
  router.Add("GET", "/jwks", [jwks_json, jwks_hits](const http::Request&) {
    jwks_hits->fetch_add(1);
    http::Response resp = http::Response::Json(200, jwks_json);
    resp.headers.Set("Cache-Control", "public, max-age=3600");
    return resp;
  });
  server::ServerOptions jwks_opts;
  jwks_opts.listen = "127.0.0.1:0";
  jwks_opts.threads = 1;
  jwks_opts.access_log = false;
  server::HttpServer platform(jwks_opts, std::move(router));
  if (auto s = platform.Start(); !s.ok()) {
    std::cerr << "platform JWKS server failed to start: " << s.ToString() << "\n";
    return 1;
  }
  platform.RunInBackground();
  const std::string issuer = "http://127.0.0.1:" + std::to_string(platform.port());
  struct PlatformStopper {
    server::HttpServer& s;
    ~PlatformStopper() {
      s.Stop();
      s.Join();
    }
  } platform_stopper{platform};

  // --- tenant and registration through the CLI --------------------------------------------------
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), flags.binary);
    args.insert(args.end(), {"--database", db, "--data-key-file", key_file});
    auto r = RunCommand(args, std::chrono::seconds(60));
    if (r.exit_code != 0) {
      std::cerr << "command failed (exit " << r.exit_code << "):";
      for (const auto& a : args) std::cerr << " " << a;
      std::cerr << "\n" << r.out << r.err << "\n";
    }
    return r.exit_code == 0;
  };
  if (!cli({"tenant", "add", "bench"})) return 1;
  if (!cli({"registration", "add", "--tenant", "bench", "--issuer", issuer, "--client-id", kClientId,
            "--deployment-id", kDeploymentId, "--auth-url", issuer + "/auth", "--token-url", issuer + "/token",
            "--jwks-url", issuer + "/jwks", "--target-url", kTargetUrl, "--family", "generic", "--dev-mode",
            "true"})) {
    return 1;
  }

  // --- the server under test --------------------------------------------------------------------
  std::filesystem::remove(port_file);
  ChildProcess server({flags.binary, "serve", "--listen", "127.0.0.1:0", "--port-file", port_file, "--database", db,
                       "--data-key-file", key_file, "--dev-mode", "true", "--access-log", "false", "--threads",
                       std::to_string(flags.server_threads)},
                      dir + "/serve.log");
  int port = gb::testing::WaitForPortFile(port_file, std::chrono::seconds(30));
  if (port == 0) {
    std::cerr << "gradebridge serve did not start; log:\n" << server.Log() << "\n";
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let start-up settle before "idle"
  if (!server.Running()) {
    std::cerr << "gradebridge serve exited; log:\n" << server.Log() << "\n";
    return 1;
  }
  const Rss idle = ReadRss(server.pid());
  std::cout << "  server pid " << server.pid() << " on 127.0.0.1:" << port << "; platform (JWKS) on " << issuer
            << "\n  idle RSS " << Mb(idle.rss_kb) << " (HWM " << Mb(idle.hwm_kb) << ")\n\n";

  const std::string host = "127.0.0.1:" + std::to_string(port);
  LoadOptions lo;
  lo.port = static_cast<uint16_t>(port);
  lo.connections = flags.connections;
  lo.threads = flags.client_threads;
  lo.max_duration = std::chrono::seconds(flags.phase_timeout_s);

  const std::string login_request =
      BuildGet(host, "/lti/login?iss=" + PercentEncode(issuer) + "&client_id=" + kClientId +
                         "&login_hint=u1&target_link_uri=" + PercentEncode(kTargetUrl));
  RequestSource login_source = [&login_request](size_t, std::string& out) { out.append(login_request); };

  // Runs one phase and measures the server's CPU time over it (and profiles it when asked).
  auto phase = [&](const std::string& name, size_t n, const RequestSource& source, const ResponseSink& sink,
                   double* server_cpu_out) {
    std::unique_ptr<ChildProcess> perf;
    if (name == flags.perf_phase) {
      std::vector<std::string> argv = {FindInPath("perf")};
      std::istringstream words(flags.perf_args);
      for (std::string w; words >> w;) argv.push_back(w);
      argv.insert(argv.end(), {"-p", std::to_string(server.pid()), "-o", flags.perf_out});
      perf = std::make_unique<ChildProcess>(argv, dir + "/perf.log");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let perf attach
    }
    double cpu0 = ProcessCpuSeconds(server.pid());
    LoadResult r = RunLoad(lo, n, source, sink);
    double cpu = ProcessCpuSeconds(server.pid()) - cpu0;
    if (perf) {
      int st = perf->Stop(SIGINT, std::chrono::seconds(60));
      std::cout << "  perf (" << flags.perf_args << ") of phase " << name << " -> " << flags.perf_out << ", exit "
                << st << "\n";
    }
    PrintPhase(name, r, lo.expected_status, cpu);
    if (server_cpu_out) *server_cpu_out = cpu;
    return r;
  };

  json report = {{"logins_requested", flags.logins}, {"launches_requested", flags.launches},
                 {"connections", flags.connections}, {"server_threads", flags.server_threads},
                 {"idle_rss_kb", idle.rss_kb}};
  bool failed = false;

  // --- phase 1: logins --------------------------------------------------------------------------
  lo.expected_status = 302;
  if (flags.warmup > 0) {
    LoadResult w = phase("warm-up logins", flags.warmup, login_source, nullptr, nullptr);
    if (w.ok == 0) {
      std::cerr << "no login succeeded; server log:\n" << server.Log() << "\n";
      return 1;
    }
  }
  LoadResult logins;
  double login_cpu = 0;
  if (flags.logins > 0) {
    logins = phase("logins", flags.logins, login_source, nullptr, &login_cpu);
    failed |= logins.errors > 0;
  }
  const Rss after_logins = ReadRss(server.pid());
  std::cout << "  RSS after logins " << Mb(after_logins.rss_kb) << " (HWM " << Mb(after_logins.hwm_kb) << ")\n";
  report["login"] = PhaseJson(logins, login_cpu);
  report["rss_after_logins_kb"] = after_logins.rss_kb;
  report["hwm_after_logins_kb"] = after_logins.hwm_kb;

  // --- phase 2: collect launch credentials and sign id_tokens -----------------------------------
  LoadResult launches;
  Rss after_launches = after_logins;
  if (flags.launches > 0) {
    const size_t warm_launches = std::min<size_t>(200, std::max<size_t>(1, flags.launches / 100));
    const size_t need = flags.launches + warm_launches;
    std::vector<LaunchCredentials> creds(need);
    double collect_cpu = 0;
    LoadResult collect = phase(
        "collect logins", need, login_source, [&creds](size_t i, const HttpResponseView& r) { creds[i] = ParseLogin(r); },
        &collect_cpu);
    size_t usable = static_cast<size_t>(std::count_if(creds.begin(), creds.end(), [](const auto& c) { return c.ok; }));
    if (usable < need) {
      std::cerr << "only " << usable << " of " << need << " logins gave state, nonce and cookie\n";
      return 1;
    }

    std::vector<std::string> requests(need);
    auto sign_start = SteadyClock::now();
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    std::atomic<size_t> next{0};
    std::atomic<size_t> sign_errors{0};
    unsigned signers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < signers; ++t) {
      pool.emplace_back([&] {
        for (size_t i = next.fetch_add(1); i < need; i = next.fetch_add(1)) {
          const auto& c = creds[i];
          json claims = {
              {"iss", issuer},
              {"aud", kClientId},
              {"sub", "user-" + std::to_string(i % 1000)},
              {"iat", now},
              {"exp", now + 300},
              {"nonce", c.nonce},
              {lti::kClaimMessageType, lti::kMsgResourceLink},
              {lti::kClaimVersion, lti::kLtiVersion},
              {lti::kClaimDeploymentId, kDeploymentId},
              {lti::kClaimTargetLinkUri, kTargetUrl},
              {lti::kClaimResourceLink, {{"id", "rl-" + std::to_string(i % 100)}}},
              {lti::kClaimRoles, json::array({kLearnerRole})},
          };
          auto token = jose::SignJwt(claims, *platform_key, kid);
          if (!token.ok()) {
            sign_errors.fetch_add(1);
            continue;
          }
          requests[i] = BuildPost(host, "/lti/launch", "application/x-www-form-urlencoded",
                                  "id_token=" + *token + "&state=" + PercentEncode(c.state), {"Cookie: " + c.cookie});
        }
      });
    }
    for (auto& th : pool) th.join();
    double sign_s = std::chrono::duration<double>(SteadyClock::now() - sign_start).count();
    std::cout << "  signed " << need << " id_tokens in " << Fixed(sign_s, 1) << " s with " << signers
              << " threads (untimed); request size " << requests[0].size() << " bytes\n";
    if (sign_errors > 0) {
      std::cerr << sign_errors << " id_tokens could not be signed\n";
      return 1;
    }
    creds.clear();
    creds.shrink_to_fit();

    // --- phase 3: launches ----------------------------------------------------------------------
    // Each launch commits twice (nonce, hand-off) on the request thread, so the disk's fsync latency
    // bounds it: at most server_threads / (2 x fsync) launches per second without group commit.
    const FsyncLatency fsync = ProbeFsync(dir);
    if (fsync.p50_us > 0) {
      std::cout << "  fsync probe in the work dir: 4 KiB pwrite+fdatasync p50 " << Fixed(fsync.p50_us, 0) << " us, p90 "
                << Fixed(fsync.p90_us, 0) << " us -> ceiling at 2 commits per launch and " << flags.server_threads
                << " server threads ~ " << Fixed(flags.server_threads / (2 * fsync.p50_us / 1e6)) << " launches/s\n";
    }
    report["fsync_p50_us"] = fsync.p50_us;
    report["fsync_p90_us"] = fsync.p90_us;
    lo.expected_status = 303;
    std::atomic<uint64_t> bad_location{0};
    const std::string expected_location = std::string(kTargetUrl) + "?launch_token=";
    ResponseSink check = [&bad_location, &expected_location](size_t, const HttpResponseView& r) {
      if (r.status != 303) return;
      auto loc = r.Header("Location");
      if (!loc || loc->substr(0, expected_location.size()) != expected_location) bad_location.fetch_add(1);
    };
    // Warm-up: the first launch fetches the platform JWKS; keep that out of the timed run.
    phase("warm-up launches", warm_launches, [&requests](size_t i, std::string& out) { out.append(requests[i]); },
          check, nullptr);
    double launch_cpu = 0;
    launches = phase(
        "launches", flags.launches,
        [&requests, warm_launches](size_t i, std::string& out) { out.append(requests[warm_launches + i]); }, check,
        &launch_cpu);
    if (bad_location > 0) std::cout << "    " << bad_location << " 303s had an unexpected Location\n";
    failed |= launches.errors > 0 || bad_location > 0;
    after_launches = ReadRss(server.pid());
    std::cout << "  RSS after launches " << Mb(after_launches.rss_kb) << " (HWM " << Mb(after_launches.hwm_kb)
              << "); platform JWKS fetched " << jwks_hits->load() << " time(s)\n";
    report["launch"] = PhaseJson(launches, launch_cpu);
    report["collect"] = PhaseJson(collect, collect_cpu);
    report["bad_location"] = bad_location.load();
  }

  // --- idle again ----------------------------------------------------------------------------------
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Rss settled = ReadRss(server.pid());
  report["rss_after_kb"] = settled.rss_kb;
  report["peak_hwm_kb"] = settled.hwm_kb;
  std::cout << "  RSS 2 s after the load " << Mb(settled.rss_kb) << ", peak (VmHWM) " << Mb(settled.hwm_kb) << "\n";
  if (!server.Running()) {
    std::cerr << "gradebridge serve died during the benchmark; log tail:\n" << server.Log() << "\n";
    failed = true;
  }
  int stop = server.Stop(SIGTERM, std::chrono::seconds(15));
  if (stop != 0) std::cout << "  (server stop status " << stop << ")\n";
  platform.Stop();

  // --- raw crypto for context -----------------------------------------------------------------------
  double verify_rate = 0, parse_verify_rate = 0;
  if (flags.crypto_seconds > 0) {
    json claims = {{"iss", issuer}, {"aud", kClientId}, {"sub", "u"}, {"nonce", "n"},
                   {lti::kClaimMessageType, lti::kMsgResourceLink}, {lti::kClaimVersion, lti::kLtiVersion}};
    auto token = jose::SignJwt(claims, *platform_key, kid);
    auto jws = token.ok() ? jose::ParseCompact(*token) : Result<jose::CompactJws>(token.status());
    if (jws.ok()) {
      const std::string input = jws->SigningInput();
      auto bench = [&](auto&& fn) {
        auto t0 = SteadyClock::now();
        auto until = t0 + std::chrono::duration<double>(flags.crypto_seconds / 2);
        uint64_t n = 0;
        while (SteadyClock::now() < until) {
          for (int k = 0; k < 50; ++k) n += fn() ? 1 : 0;
        }
        return static_cast<double>(n) / std::chrono::duration<double>(SteadyClock::now() - t0).count();
      };
      verify_rate = bench([&] { return platform_pub.VerifyRs256(input, jws->signature); });
      parse_verify_rate = bench([&] {
        auto p = jose::ParseCompact(*token);
        return p.ok() && jose::VerifyRs256(*p, platform_pub).ok();
      });
    }
  }
  std::string openssl_line;
  const double openssl_rate = flags.openssl_speed ? OpensslVerifyRate(openssl_line) : 0;

  // --- report -------------------------------------------------------------------------------------
  auto verdict = [](bool met) { return met ? "met" : "NOT met"; };
  std::cout << "\nresults (targets: DESIGN.md §8, 2 cores, load generator included)\n";
  if (flags.logins > 0) {
    std::cout << "  OIDC login        " << Fixed(logins.ok_rate()) << "/s   target >= 20000/s  "
              << verdict(logins.ok_rate() >= 20000 && logins.wrong_status + logins.transport_errors == 0) << "   p50 " << Fixed(logins.p50_us / 1000, 2)
              << " ms  p99 " << Fixed(logins.p99_us / 1000, 2) << " ms  errors " << logins.errors << "\n";
  }
  if (flags.launches > 0) {
    std::cout << "  launch validation " << Fixed(launches.ok_rate()) << "/s   target >=  8000/s  "
              << verdict(launches.ok_rate() >= 8000 && launches.wrong_status + launches.transport_errors == 0) << "   p50 "
              << Fixed(launches.p50_us / 1000, 2) << " ms  p99 " << Fixed(launches.p99_us / 1000, 2)
              << " ms  errors " << launches.errors << "\n";
  }
  std::cout << "  RSS idle          " << Mb(idle.rss_kb) << "   target < 30 MB   " << verdict(idle.rss_kb < 30 * 1024)
            << "\n  RSS peak          " << Mb(settled.hwm_kb) << "   target < 200 MB  "
            << verdict(settled.hwm_kb < 200 * 1024) << "\n  RSS idle after    " << Mb(settled.rss_kb) << "\n";
  if (verify_rate > 0) {
    std::cout << "  RS256 verify, 1 core, in-process (jose): " << Fixed(verify_rate) << "/s; ParseCompact+verify "
              << Fixed(parse_verify_rate) << "/s\n";
    if (flags.launches > 0) {
      std::cout << "    launch rate / 1-core verify rate = " << Fixed(launches.ok_rate() / verify_rate * 100, 1)
                << " %  (/ 2 cores: " << Fixed(launches.ok_rate() / (2 * verify_rate) * 100, 1) << " %)\n";
    }
  }
  if (openssl_rate > 0) {
    std::cout << "  openssl speed -seconds 3 rsa2048: " << Fixed(openssl_rate) << " verify/s  [" << openssl_line
              << "]\n";
    if (flags.launches > 0) {
      std::cout << "    launch rate / openssl verify rate = " << Fixed(launches.ok_rate() / openssl_rate * 100, 1)
                << " %\n";
    }
  }
  report["verify_rate_1core"] = verify_rate;
  report["parse_verify_rate_1core"] = parse_verify_rate;
  report["openssl_verify_rate"] = openssl_rate;
  report["failed"] = failed;
  report["load_average_end"] = LoadAverage();
  if (flags.json) std::cout << "RESULT_JSON " << report.dump() << "\n";
  if (failed) std::cout << "\nFAILED: some requests were not answered as expected (see above)\n";
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace gb::bench

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  gb::SetLogLevel(gb::LogLevel::kWarn);  // the in-process JWKS server's start-up line is noise here
  return gb::bench::Run(gb::bench::ParseFlags(argc, argv));
}
