// A running pair for end-to-end tests: `gradebridge sim` and `gradebridge serve` (dev mode, SQLite
// in a temp dir), registered with each other through their public interfaces — the simulator's
// tool-registration API and the gradebridge CLI — exactly as an administrator would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "process.h"
#include "sim/browser.h"

namespace gb::testing {

struct RegisteredTool {
  std::string client_id, deployment_id, registration_id;
};

class E2eEnvironment {
 public:
  // Starts both processes and registers a Canvas-shaped tool (with a target URL, so launches are
  // handed off with a 303) and a Moodle-shaped one (without, so launches land on the built-in page).
  static E2eEnvironment& Get();

  std::string sim_url, gb_url, db, data_key, tool_target;
  std::string api_key, other_api_key;
  RegisteredTool canvas, moodle;
  std::unique_ptr<http::HttpClient> client;

  // Runs `gradebridge <args> --database <db>`.
  CommandResult Cli(std::vector<std::string> args);
  std::string LaunchUrl(const RegisteredTool& tool, const std::string& user, const std::string& link,
                        const std::string& mutate = "") const;
  sim::LaunchOutcome Launch(const std::string& url, sim::LaunchBrowserOptions options = {});
  http::Response Get(const std::string& url, const std::string& bearer = "");

  // Kills `serve` with SIGKILL — no drain, no clean shutdown — and starts it again on the same port
  // and database: a crashed node coming back. False (with a test failure) if it does not return.
  bool CrashAndRestartServer();
  static constexpr int kLearners = 40;  // the simulator's course has learner1..learner40
  // The server reuses registrations it read for this long; a `registration update` made with the
  // CLI is seen by the running server within it (tests poll rather than sleep).
  static constexpr int kRegistrationCacheMs = 300;

 private:
  E2eEnvironment();
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> sim_, gb_;
  int gb_port_ = 0;
};

// The reason code a rejection page carries ("launch.bad_signature"), or "" if none.
std::string ReasonIn(const std::string& html);

}  // namespace gb::testing
