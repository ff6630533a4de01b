#include "app/sim_command.h"

#include <signal.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/tool_app.h"
#include "base/log.h"
#include "http/curl/curl_client.h"
#include "sim/browser.h"
#include "sim/mutations.h"
#include "sim/simulator.h"

namespace gb::app {

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
}

namespace {

int RunSimServer(const std::string& listen, const std::string& issuer, const std::string& port_file, int threads,
                 int learners) {
  BlockTerminationSignals();
  sim::SimOptions options;
  options.listen = listen;
  options.issuer = issuer;
  // Injected latency holds a server thread (handlers are synchronous): raise --threads to serve
  // N / latency requests per second.
  options.threads = threads;
  options.learners = learners;
  sim::Simulator simulator(options);
  Status s = simulator.Start();
  if (!s.ok()) {
    std::cerr << "error: " << s.message() << " [" << s.reason() << "]\n";
    return 1;
  }
  if (!port_file.empty()) {
    Status w = WritePortFile(port_file, simulator.port());
    if (!w.ok()) {
      std::cerr << "error: " << w.message() << "\n";
      return 1;
    }
  }
  std::cout << "gradebridge sim: platform simulator at " << simulator.base_url() << " (issuer "
            << simulator.issuer() << ")\n"
            << "  home page:        " << simulator.base_url() << "/sim/\n"
            << "  register a tool:  POST " << simulator.base_url() << "/sim/api/tools\n"
            << std::flush;
  WaitForTerminationSignal();
  simulator.Stop();
  return 0;
}

// `gradebridge sim launch`: plays the browser for one launch and prints what the tool answered.
int RunSimLaunch(const std::string& sim_url, const std::string& client_id, const std::string& user,
                 const std::string& resource_link, const std::string& message_type, const std::string& mutate,
                 bool as_json) {
  http::CurlClientOptions copts;
  copts.allow_insecure = true;  // the simulator and a dev-mode tool live on loopback
  auto client = http::MakeCurlHttpClient(copts);
  std::string url = sim_url + "/sim/launch?client_id=" + PercentEncode(client_id) + "&user=" + PercentEncode(user) +
                    "&resource_link=" + PercentEncode(resource_link) + "&message_type=" + PercentEncode(message_type);
  if (!mutate.empty()) url += "&mutate=" + PercentEncode(mutate);
  sim::LaunchBrowser browser(*client);
  auto outcome = browser.Launch(url);
  if (!outcome.ok()) {
    std::cerr << "error: " << outcome.status().message() << " [" << outcome.status().reason() << "]\n";
    return 1;
  }
  if (as_json) {
    nlohmann::json j = {{"status", outcome->status}, {"location", outcome->location}, {"stage", outcome->stage},
                        {"steps", outcome->steps}};
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& step : outcome->steps) std::cout << "  " << step << "\n";
    std::cout << "tool answered HTTP " << outcome->status;
    if (!outcome->location.empty()) std::cout << " -> " << outcome->location;
    std::cout << "\n";
  }
  return outcome->status >= 200 && outcome->status < 400 ? 0 : 1;
}

}  // namespace

int RunSimCommand(const std::vector<std::string>& args) {
  CLI::App app{"gradebridge sim — the platform simulator"};
  std::string listen = "127.0.0.1:8788", issuer, port_file;
  app.add_option("--listen", listen, "host:port (port 0 picks one)");
  app.add_option("--issuer", issuer, "issuer URL (default: the simulator's base URL)");
  app.add_option("--port-file", port_file, "write the bound port here");
  int threads = 2, learners = 3;
  app.add_option("--threads", threads, "server threads (each injected-latency request holds one)")
      ->check(CLI::Range(1, 512));
  app.add_option("--learners", learners, "learners in the course: learner1..learnerN")->check(CLI::Range(3, 100000));

  auto* launch = app.add_subcommand("launch", "Perform a launch as a user, playing the browser");
  std::string sim_url = "http://127.0.0.1:8788", client_id, user = "learner1", link = "rl-quiz-1",
              message_type = "LtiResourceLinkRequest", mutate;
  bool as_json = false;
  launch->add_option("--sim", sim_url, "simulator base URL");
  launch->add_option("--client-id", client_id, "the registered tool's client_id")->required();
  launch->add_option("--user", user, "user id (instructor, learner1..learner3, ta1)");
  launch->add_option("--resource-link", link, "resource link id");
  launch->add_option("--message-type", message_type, "LtiResourceLinkRequest or LtiDeepLinkingRequest");
  launch->add_option("--mutate", mutate, "comma-separated id_token mutations (see docs/simulator.md)");
  launch->add_flag("--json", as_json, "JSON output");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (see gradebridge sim --help)\n";
    return 2;
  }
  if (launch->parsed()) return RunSimLaunch(sim_url, client_id, user, link, message_type, mutate, as_json);
  return RunSimServer(listen, issuer, port_file, threads, learners);
}

}  // namespace gb::app
