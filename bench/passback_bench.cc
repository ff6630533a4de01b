// gb_bench_passback: the grade-passback targets of DESIGN §8, measured end to end against a
// `gradebridge serve` and a `gradebridge sim` started as child processes (SQLite, synchronous=FULL,
// durable state, everything on this machine, load generator included).
//
//   phase 1  intake:    POST /api/v1/scores over keep-alive connections with delivery switched
//                       off (--passback-workers 0); each answer is a 202 sent after the commit.
//   phase 2  delivery:  serve restarted with its workers on the backlog phase 1 left (one queued
//                       score per gradebook cell after coalescing); the simulator adds 20 ms to
//                       every call; rate = scores delivered / time until the queue is empty.
//   phase 3  latency:   scores submitted open-loop at half the phase 2 rate for a few seconds;
//                       accept -> delivered per score (created_at -> delivered_at, as stored).
//   phase 4  throttled: the simulator's Canvas leaky bucket switched on; deliveries against it;
//                       achieved request rate vs the bucket's sustainable rate (leak / mean cost),
//                       and the share of requests the bucket refused.
//
// Usage: gb_bench_passback [--intake N] [--learners L] [--connections C] [--workers W]
//                          [--latency-ms MS] [--latency-seconds S] [--throttled N] [--leak UNITS/S]
//                          [--binary PATH] [--json]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/time_util.h"
#include "bench_util.h"
#include "http/curl/curl_client.h"
#include "http_load.h"
#include "process.h"

namespace gb::bench {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using gb::testing::ChildProcess;
using gb::testing::RunCommand;

struct Flags {
  size_t intake = 40'000;
  int learners = 10'000;
  int connections = 64;
  int workers = 128;
  int latency_ms = 20;
  int latency_seconds = 8;
  size_t throttled = 400;
  double leak = 2'000;  // bucket units per second; a request costs 50–100 (mean 75)
  std::string binary = GB_BINARY;
  bool json = false;
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "gb_bench_passback: " << why << "\n"
            << "usage: gb_bench_passback [--intake N] [--learners L] [--connections C] [--workers W]\n"
               "                         [--latency-ms MS] [--latency-seconds S] [--throttled N] [--leak U]\n"
               "                         [--binary PATH] [--json]\n";
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + a);
      return argv[++i];
    };
    auto number = [&](long long lo, long long hi) -> long long {
      std::string v = value();
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < lo || n > hi) Usage("bad value for " + a + ": " + v);
      return n;
    };
    if (a == "--intake") f.intake = static_cast<size_t>(number(1, 10'000'000));
    else if (a == "--learners") f.learners = static_cast<int>(number(3, 100'000));
    else if (a == "--connections") f.connections = static_cast<int>(number(1, 4096));
    else if (a == "--workers") f.workers = static_cast<int>(number(1, 1024));
    else if (a == "--latency-ms") f.latency_ms = static_cast<int>(number(0, 10'000));
    else if (a == "--latency-seconds") f.latency_seconds = static_cast<int>(number(1, 600));
    else if (a == "--throttled") f.throttled = static_cast<size_t>(number(1, 1'000'000));
    else if (a == "--leak") f.leak = static_cast<double>(number(1, 1'000'000));
    else if (a == "--binary") f.binary = value();
    else if (a == "--json") f.json = true;
    else Usage("unknown flag " + a);
  }
  return f;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

int64_t ParseMillis(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return 0;
  auto t = ParseIso8601(j[key].get<std::string>());
  return t ? std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count() : 0;
}

class Bench {
 public:
  explicit Bench(Flags flags) : flags_(std::move(flags)) {}

  int Run() {
    dir_ = std::make_unique<gb::testing::TempDir>();
    db_ = "sqlite:" + dir_->path() + "/gb.db";
    key_ = dir_->path() + "/gb.key";
    http::CurlClientOptions co;
    co.allow_insecure = true;
    client_ = http::MakeCurlHttpClient(co);

    sim_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{flags_.binary, "sim", "--listen", "127.0.0.1:0", "--port-file",
                                 dir_->path() + "/sim.port", "--threads", "192", "--learners",
                                 std::to_string(flags_.learners)},
        dir_->path() + "/sim.log");
    int sim_port = gb::testing::WaitForPortFile(dir_->path() + "/sim.port");
    if (sim_port == 0) return Fail("the simulator did not start:\n" + sim_->Log());
    sim_url_ = "http://127.0.0.1:" + std::to_string(sim_port);

    // Phase 1 runs with delivery off; its port is kept for the later phases, so the JWKS URL the
    // simulator knows stays right.
    if (!StartServe(0, 0)) return 1;
    if (!Register()) return 1;
    json report = {{"machine", {{"nproc", std::thread::hardware_concurrency()}}}};
    report["intake"] = Intake();
    StopServe();

    SetFaults({{"latency_ms", flags_.latency_ms}});
    if (!StartServe(port_, flags_.workers)) return 1;
    report["delivery"] = Drain("delivery");
    double rate = report["delivery"].value("rate", 0.0);
    report["latency"] = Latency(std::max(1.0, rate / 2));
    report["throttled"] = Throttled();
    Rss rss = ReadRss(serve_->pid());
    report["serve_rss_hwm_mb"] = static_cast<double>(rss.hwm_kb) / 1024.0;
    StopServe();

    std::cout << "\nRESULT_JSON " << report.dump() << "\n";
    return 0;
  }

 private:
  int Fail(const std::string& why) {
    std::cerr << "gb_bench_passback: " << why << "\n";
    return 1;
  }

  bool Cli(std::vector<std::string> args, json* out = nullptr) {
    args.insert(args.begin(), flags_.binary);
    args.insert(args.end(), {"--database", db_, "--data-key-file", key_});
    auto r = RunCommand(args, std::chrono::seconds(120));
    if (r.exit_code != 0) {
      std::cerr << "command failed (" << r.exit_code << "): " << args[1] << " " << args[2] << "\n" << r.err << "\n";
      return false;
    }
    if (out) *out = json::parse(r.out, nullptr, false);
    return true;
  }

  bool StartServe(int port, int workers) {
    std::string port_file = dir_->path() + "/gb.port";
    std::filesystem::remove(port_file);
    serve_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{flags_.binary, "serve", "--listen", "127.0.0.1:" + std::to_string(port),
                                 "--port-file", port_file, "--database", db_, "--data-key-file", key_,
                                 "--dev-mode", "true", "--access-log", "false", "--threads", "2",
                                 "--passback-workers", std::to_string(workers)},
        dir_->path() + "/serve.log");
    port_ = gb::testing::WaitForPortFile(port_file);
    if (port_ == 0) {
      std::cerr << "serve did not start:\n" << serve_->Log() << "\n";
      return false;
    }
    gb_url_ = "http://127.0.0.1:" + std::to_string(port_);
    return true;
  }

  void StopServe() {
    if (serve_) serve_->Stop(SIGTERM, std::chrono::seconds(60));
    serve_.reset();
  }

  Result<http::Response> Send(const std::string& method, const std::string& url, const std::string& body,
                              const std::string& bearer = "") {
    http::Request req;
    req.method = method;
    req.url = url;
    if (!body.empty()) req.headers.Set("Content-Type", "application/json");
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    req.body = body;
    return client_->Send(req);
  }

  void SetFaults(const json& faults) {
    auto r = Send("POST", sim_url_ + "/sim/api/faults", faults.dump());
    if (!r.ok() || r->status != 200) std::cerr << "setting faults failed\n";
  }

  json Faults() {
    auto r = Send("GET", sim_url_ + "/sim/api/faults", "");
    return r.ok() ? json::parse(r->body, nullptr, false) : json::object();
  }

  bool Register() {
    json spec = {{"name", "gradebridge bench"},
                 {"login_url", gb_url_ + "/lti/login"},
                 {"redirect_uris", {gb_url_ + "/lti/launch"}},
                 {"target_link_uri", gb_url_ + "/lti/launch"},
                 {"jwks_url", gb_url_ + "/.well-known/jwks.json"},
                 {"profile", "canvas"}};
    auto r = Send("POST", sim_url_ + "/sim/api/tools", spec.dump());
    if (!r.ok() || r->status != 201) return Fail("sim tool registration failed") == 0;
    json tool = json::parse(r->body);
    json tenant, reg;
    if (!Cli({"tenant", "add", "bench", "--json"}, &tenant)) return false;
    api_key_ = tenant["api_key"];
    if (!Cli({"registration", "add", "--tenant", "bench", "--issuer", tool["issuer"], "--client-id",
              tool["client_id"], "--deployment-id", tool["deployment_id"], "--auth-url", tool["auth_url"],
              "--token-url", tool["token_url"], "--jwks-url", tool["jwks_url"], "--family", "canvas",
              "--dev-mode", "true", "--json"},
             &reg)) {
      return false;
    }
    registration_id_ = reg["id"];
    lineitem_ = sim_url_ + "/sim/api/lti/courses/1001/line_items/1";
    return true;
  }

  // A score for learner `n` (1-based) graded at `at`.
  std::string ScoreBody(int n, double value, TimePoint at) const {
    return json{{"registration_id", registration_id_},
                {"lineitem_url", lineitem_},
                {"user_id", "learner" + std::to_string(n)},
                {"score_given", value},
                {"score_maximum", 10},
                {"timestamp", FormatIso8601Millis(at)}}
        .dump();
  }

  json Intake() {
    const std::string host = "127.0.0.1:" + std::to_string(port_);
    const TimePoint base = SystemClock::Instance().Now() - std::chrono::hours(1);
    const int learners = flags_.learners;
    RequestSource source = [&](size_t i, std::string& out) {
      std::string body = ScoreBody(static_cast<int>(i % static_cast<size_t>(learners)) + 1,
                                   static_cast<double>(i % 11), base + std::chrono::milliseconds(i));
      out.append(BuildPost(host, "/api/v1/scores", "application/json", body, {"Authorization: Bearer " + api_key_}));
    };
    LoadOptions lo;
    lo.port = static_cast<uint16_t>(port_);
    lo.connections = flags_.connections;
    lo.expected_status = 202;
    lo.max_duration = std::chrono::seconds(300);
    double cpu_before = ProcessCpuSeconds(serve_->pid());
    LoadResult r = RunLoad(lo, flags_.intake, source);
    double cpu = ProcessCpuSeconds(serve_->pid()) - cpu_before;
    std::cout << "intake:    " << r.ok << " scores accepted (202) in " << r.seconds << " s = " << r.ok_rate()
              << "/s; p50 " << r.p50_us / 1000 << " ms, p99 " << r.p99_us / 1000 << " ms; errors " << r.errors
              << (r.first_error.empty() ? "" : " (" + r.first_error + ")") << "; server CPU "
              << (r.ok ? cpu / static_cast<double>(r.ok) * 1e6 : 0) << " µs/score\n";
    return {{"accepted", r.ok},   {"seconds", r.seconds}, {"rate", r.ok_rate()}, {"errors", r.errors},
            {"p50_ms", r.p50_us / 1000}, {"p99_ms", r.p99_us / 1000}, {"server_cpu_us_per_score",
            r.ok ? cpu / static_cast<double>(r.ok) * 1e6 : 0}};
  }

  // Waits until nothing is queued or delivering; returns the counts.
  json WaitDrained(std::chrono::seconds limit) {
    auto deadline = SteadyClock::now() + limit;
    json counts;
    while (SteadyClock::now() < deadline) {
      if (!Cli({"queue", "status", "--json"}, &counts)) break;
      const json& s = counts["by_state"];
      if (s.value("queued", 0) + s.value("delivering", 0) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return counts;
  }

  json Drain(const std::string& name) {
    json before;
    Cli({"queue", "status", "--json"}, &before);
    int64_t backlog = before["by_state"].value("queued", 0);
    int64_t delivered_before = before["by_state"].value("delivered", 0);
    auto t0 = SteadyClock::now();
    json after = WaitDrained(std::chrono::seconds(600));
    double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    int64_t delivered = after["by_state"].value("delivered", 0) - delivered_before;
    int64_t failed = after["by_state"].value("failed", 0);
    double rate = seconds > 0 ? static_cast<double>(delivered) / seconds : 0;
    std::cout << name << ":  " << delivered << " of " << backlog << " queued scores delivered in " << seconds
              << " s = " << rate << "/s (" << flags_.latency_ms << " ms per platform call, " << flags_.workers
              << " workers); failed " << failed << "\n";
    return {{"backlog", backlog}, {"delivered", delivered}, {"failed", failed}, {"seconds", seconds}, {"rate", rate}};
  }

  // Submits `count` scores at `rate` per second (open loop, paced), each to its own cell, newer
  // than anything before. Returns the accepted ids.
  std::vector<std::string> SubmitPaced(size_t count, double rate, int first_learner) {
    const std::string host = "127.0.0.1:" + std::to_string(port_);
    const TimePoint base = SystemClock::Instance().Now();
    const int learners = flags_.learners;
    std::vector<std::string> ids(count);
    const auto start = SteadyClock::now();
    RequestSource source = [&](size_t i, std::string& out) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<SteadyClock::duration>(
                                                std::chrono::duration<double>(static_cast<double>(i) / rate)));
      int n = static_cast<int>((static_cast<size_t>(first_learner) + i) % static_cast<size_t>(learners)) + 1;
      out.append(BuildPost(host, "/api/v1/scores", "application/json",
                           ScoreBody(n, 7, base + std::chrono::milliseconds(i)), {"Authorization: Bearer " + api_key_}));
    };
    ResponseSink sink = [&](size_t i, const HttpResponseView& r) {
      if (r.status == 202) ids[i] = json::parse(r.body, nullptr, false).value("id", "");
    };
    LoadOptions lo;
    lo.port = static_cast<uint16_t>(port_);
    lo.connections = 16;
    lo.expected_status = 202;
    lo.max_duration = std::chrono::seconds(300);
    RunLoad(lo, count, source, sink);
    ids.erase(std::remove(ids.begin(), ids.end(), std::string()), ids.end());
    return ids;
  }

  json Latency(double rate) {
    size_t count = static_cast<size_t>(rate * flags_.latency_seconds);
    std::vector<std::string> ids = SubmitPaced(count, rate, 0);
    WaitDrained(std::chrono::seconds(300));
    std::set<std::string> wanted(ids.begin(), ids.end());
    json list;
    Cli({"queue", "list", "--json", "--limit", std::to_string(std::max<size_t>(count * 2, 1000))}, &list);
    std::vector<double> ms;
    std::map<std::string, int> states;
    for (const auto& s : list) {
      if (!wanted.count(s.value("id", ""))) continue;
      states[s.value("status", "?")]++;
      int64_t created = ParseMillis(s, "created_at"), delivered = ParseMillis(s, "delivered_at");
      if (created && delivered) ms.push_back(static_cast<double>(delivered - created));
    }
    double p50 = Percentile(ms, 0.5), p99 = Percentile(ms, 0.99), max = Percentile(ms, 1.0);
    std::cout << "latency:   " << ids.size() << " scores at " << rate << "/s (half the delivery rate): accept -> "
              << "delivered p50 " << p50 << " ms, p99 " << p99 << " ms, max " << max << " ms (" << ms.size()
              << " delivered)\n";
    return {{"rate", rate}, {"submitted", ids.size()}, {"measured", ms.size()}, {"p50_ms", p50},
            {"p99_ms", p99}, {"max_ms", max}, {"states", states}};
  }

  json Throttled() {
    // Canvas's bucket: 700 units, leaking `leak` per second, 50–100 units a request (mean 75),
    // +200 for a token request. Sustainable: leak / 75 requests per second.
    SetFaults({{"reset", true}});
    SetFaults({{"latency_ms", flags_.latency_ms},
               {"rate_limit", {{"enabled", true}, {"capacity", 700}, {"leak_per_second", flags_.leak},
                               {"cost_min", 50}, {"cost_max", 100}}}});
    // Let the bucket drain from the previous phases' state.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    SetFaults({{"reset_counters", true}});
    auto t0 = SteadyClock::now();
    std::vector<std::string> ids = SubmitPaced(flags_.throttled, 1e6, flags_.learners / 2);
    WaitDrained(std::chrono::seconds(600));
    double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    json faults = Faults();
    const json& c = faults["counters"];
    double requests = c.value("requests", 0.0), refused = c.value("rate_limited", 0.0);
    double admitted = requests - refused;
    double allowed = flags_.leak / 75.0;
    double achieved = seconds > 0 ? admitted / seconds : 0;
    SetFaults({{"reset", true}});
    std::cout << "throttled: " << ids.size() << " scores against a " << flags_.leak << " units/s bucket (sustainable ~"
              << allowed << " req/s): " << admitted << " requests admitted in " << seconds << " s = " << achieved
              << " req/s (" << (allowed > 0 ? 100 * achieved / allowed : 0) << " % of allowed); refused "
              << refused << " of " << requests << " (" << (requests > 0 ? 100 * refused / requests : 0) << " %)\n";
    return {{"scores", ids.size()},  {"seconds", seconds},       {"requests", requests},
            {"refused", refused},    {"allowed_rate", allowed},  {"achieved_rate", achieved},
            {"share_of_allowed", allowed > 0 ? achieved / allowed : 0},
            {"refused_share", requests > 0 ? refused / requests : 0}};
  }

  Flags flags_;
  std::unique_ptr<gb::testing::TempDir> dir_;
  std::string db_, key_, sim_url_, gb_url_, api_key_, registration_id_, lineitem_;
  int port_ = 0;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<ChildProcess> sim_, serve_;
};

}  // namespace
}  // namespace gb::bench

int main(int argc, char** argv) {
  gb::bench::Flags flags = gb::bench::ParseFlags(argc, argv);
  gb::bench::Bench bench(flags);
  return bench.Run();
}
