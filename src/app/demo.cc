// `gradebridge demo`: gradebridge, the platform simulator and a tiny stand-in "tool" in one
// process on a temporary SQLite database. It registers them with each other exactly as an
// administrator would, then plays the browser for several launches and prints what happened.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/admin.h"
#include "app/commands.h"
#include "app/sim_command.h"
#include "app/tool_app.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "http/curl/curl_client.h"
#include "server/http_server.h"
#include "sim/browser.h"
#include "sim/simulator.h"

namespace gb::app {
namespace {

using nlohmann::json;

// The learning tool gradebridge hands launches to. It redeems the one-time launch token through
// gradebridge's API, as a real tool would.
class DemoTool {
 public:
  DemoTool(http::HttpClient& client, std::string gradebridge_url, std::string api_key)
      : client_(client), gb_url_(std::move(gradebridge_url)), api_key_(std::move(api_key)) {}

  server::Router Routes() {
    server::Router r;
    r.Add("GET", "/tool/launch", [this](const http::Request& req) { return Handle(req); });
    return r;
  }

  std::vector<json> redeemed() {
    std::lock_guard lock(mu_);
    return redeemed_;
  }

 private:
  http::Response Handle(const http::Request& req) {
    auto fields = ParseForm(req.Query()).value_or(FormFields{});
    std::string token = FormValue(fields, "launch_token").value_or("");
    http::Request redeem;
    redeem.method = "GET";
    redeem.url = gb_url_ + "/api/v1/launches/" + PercentEncode(token);
    redeem.headers.Set("Authorization", "Bearer " + api_key_);
    auto resp = client_.Send(redeem);
    if (!resp.ok() || resp->status != 200) {
      return http::Response::Text(502, "could not redeem the launch token\n");
    }
    json launch = json::parse(resp->body, nullptr, false);
    {
      std::lock_guard lock(mu_);
      redeemed_.push_back(launch);
    }
    return http::Response::Html(200, "<h1>Welcome, " + HtmlEscape(launch["user"].value("name", "")) + "</h1>");
  }

  http::HttpClient& client_;
  std::string gb_url_, api_key_;
  std::mutex mu_;
  std::vector<json> redeemed_;
};

std::string Pad(std::string s, size_t n) {
  if (s.size() < n) s.append(n - s.size(), ' ');
  return s;
}

}  // namespace

int RunDemo(const Config& base_config, bool keep_running) {
  if (keep_running) BlockTerminationSignals();
  std::string tmpl = (std::filesystem::temp_directory_path() / "gradebridge-demo-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    std::cerr << "error: cannot create a temporary directory\n";
    return 1;
  }
  std::string dir = buf.data();
  // Refused launches are part of the show; their warnings would only interleave with the table.
  SetLogLevel(LogLevel::kError);

  auto fail = [&](const Status& s) {
    std::cerr << "demo failed: " << s.message() << " [" << s.reason() << "]\n";
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 1;
  };

  std::cout << "gradebridge demo — temporary database in " << dir << "\n\n";

  // 1. The platform simulator (a local LMS).
  sim::SimOptions sim_options;
  sim_options.listen = "127.0.0.1:0";
  sim::Simulator simulator(sim_options);
  if (Status s = simulator.Start(); !s.ok()) return fail(s);
  std::cout << "[1] platform simulator     " << simulator.base_url() << "\n";

  // 2. gradebridge itself, on SQLite, in dev mode (plain http on loopback).
  Config config = base_config;
  config.database = "sqlite:" + dir + "/gradebridge.db";
  config.data_key_file = dir + "/gradebridge.key";
  config.listen = "127.0.0.1:0";
  config.public_url.clear();
  config.dev_mode = true;
  config.access_log = false;
  auto tool_app = ToolApp::Create(config);
  if (!tool_app.ok()) return fail(tool_app.status());
  if (Status s = (*tool_app)->Start(); !s.ok()) return fail(s);
  std::string gb = (*tool_app)->public_url();
  std::cout << "[2] gradebridge            " << gb << "  (JWKS " << gb << "/.well-known/jwks.json)\n";

  // 3. A tenant and its API key, as `gradebridge tenant add` does.
  auto store = SqliteStore::Open(dir + "/gradebridge.db");
  if (!store.ok()) return fail(store.status());
  auto tenant = AddTenant(**store, "demo-school");
  if (!tenant.ok()) return fail(tenant.status());
  std::cout << "[3] tenant demo-school     API key " << tenant->api_key.substr(0, 10) << "…\n";

  // 4. The learning tool that receives launches.
  http::CurlClientOptions copts;
  copts.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(copts);
  DemoTool demo_tool(*client, gb, tenant->api_key);
  server::ServerOptions tool_options;
  tool_options.listen = "127.0.0.1:0";
  tool_options.threads = 1;
  tool_options.access_log = false;
  server::HttpServer tool_server(tool_options, demo_tool.Routes());
  if (Status s = tool_server.Start(); !s.ok()) return fail(s);
  tool_server.RunInBackground();
  std::string tool_url = "http://127.0.0.1:" + std::to_string(tool_server.port()) + "/tool/launch";
  std::cout << "[4] learning tool          " << tool_url << "\n";

  // 5. Register both ways round: the tool in the LMS (Canvas- and Moodle-shaped), the LMS in
  // gradebridge (the Moodle one without a target URL, so it shows the built-in landing page).
  struct Setup {
    std::string label;
    sim::Profile profile;
    std::string family;
    bool with_target;
    sim::Tool tool;
  };
  std::vector<Setup> setups = {{"Canvas-shaped", sim::Profile::kCanvas, "canvas", true, {}},
                               {"Moodle-shaped", sim::Profile::kMoodle, "moodle", false, {}}};
  for (auto& s : setups) {
    sim::ToolSpec spec;
    spec.name = "gradebridge demo (" + s.family + ")";
    spec.login_url = gb + "/lti/login";
    spec.redirect_uris = {gb + "/lti/launch"};
    spec.target_link_uri = s.with_target ? tool_url : gb + "/lti/launch";
    spec.jwks_url = gb + "/.well-known/jwks.json";
    spec.profile = s.profile;
    auto tool = simulator.platform().RegisterTool(spec);
    if (!tool.ok()) return fail(tool.status());
    s.tool = *tool;
    RegistrationInput in;
    in.tenant = "demo-school";
    in.issuer = simulator.issuer();
    in.client_id = tool->client_id;
    in.deployment_ids = {tool->deployment_id};
    in.auth_url = simulator.platform().AuthUrl();
    in.token_url = simulator.platform().TokenUrl();
    in.jwks_url = simulator.platform().JwksUrl();
    in.family = s.family;
    if (s.with_target) in.target_url = tool_url;
    auto reg = AddRegistration(**store, in, /*dev_mode=*/true);
    if (!reg.ok()) return fail(reg.status());
    std::cout << "[5] registered " << Pad(s.label, 14) << " client_id=" << tool->client_id
              << " deployment_id=" << tool->deployment_id << "\n";
  }

  // 6. Launches, played by a browser that keeps cookies and submits auto-posting forms.
  struct Run {
    size_t setup;
    std::string user, link, mutate, expect;
    bool replay = false;
  };
  std::vector<Run> runs = {
      {0, "instructor", "rl-quiz-1", "", "accepted"},
      {0, "learner1", "rl-quiz-1", "", "accepted"},
      {0, "learner2", "rl-essay", "", "accepted"},
      {1, "learner3", "rl-quiz-1", "", "accepted"},
      {1, "ta1", "rl-essay", "", "accepted"},
      {0, "learner1", "rl-quiz-1", "bad_signature", "refused"},
      {0, "learner2", "rl-quiz-1", "wrong_aud", "refused"},
      {1, "learner1", "rl-quiz-1", "", "replay refused", true},
  };
  std::cout << "\n[6] launches\n";
  int unexpected = 0;
  for (const auto& run : runs) {
    const Setup& s = setups[run.setup];
    sim::LaunchBrowser browser(*client);
    browser.options().replay = run.replay;
    std::string url = simulator.base_url() + "/sim/launch?client_id=" + PercentEncode(s.tool.client_id) +
                      "&user=" + run.user + "&resource_link=" + run.link + (run.mutate.empty() ? "" : "&mutate=" + run.mutate);
    auto outcome = browser.Launch(url);
    if (!outcome.ok()) return fail(outcome.status());
    int status = run.replay ? outcome->replay_status : outcome->status;
    const std::string& body = run.replay ? outcome->replay_body : outcome->body;
    bool accepted = status == 200 || status == 303;
    std::string what;
    if (status == 303) {
      // Follow the hand-off like the browser would: the tool redeems the token through the API.
      http::Request follow;
      follow.method = "GET";
      follow.url = run.replay ? outcome->replay_location : outcome->location;
      auto tool_page = client->Send(follow);
      bool redeemed = tool_page.ok() && tool_page->status == 200;
      accepted = accepted && redeemed;
      what = redeemed ? "303 → tool, token redeemed" : "303 → tool, but the tool could not redeem the token";
    } else if (accepted) {
      what = "200 built-in landing page";
    } else {
      size_t code = body.find("launch.");
      std::string reason = code == std::string::npos ? "" : body.substr(code, body.find_first_of("<\" ", code) - code);
      what = std::to_string(status) + " refused: " + reason;
    }
    bool ok = (run.expect == "accepted") == accepted;
    if (!ok) ++unexpected;
    std::cout << "    " << Pad(s.label, 14) << " " << Pad(run.user, 11) << Pad(run.link, 10)
              << Pad(run.replay ? "(replayed)" : run.mutate.empty() ? "" : "mutate=" + run.mutate, 22) << what
              << (ok ? "" : "   <-- UNEXPECTED") << "\n";
  }

  std::cout << "\n[7] what the tool received (GET /api/v1/launches/{token})\n";
  for (const auto& l : demo_tool.redeemed()) {
    std::string roles;
    for (const auto& r : l["role_names"]) roles += (roles.empty() ? "" : ",") + r.get<std::string>();
    std::cout << "    " << Pad(l["user"].value("name", l["user"].value("id", "")), 16) << Pad(roles, 30)
              << Pad(l["context"].is_object() ? l["context"].value("title", "") : "", 28)
              << (l["resource_link"].is_object() ? l["resource_link"].value("title", "") : "") << "\n";
  }

  // 8. The tool grades: scores through POST /api/v1/scores, by an AI grader and by a teacher,
  // including a correction and a score for the essay, whose column gradebridge creates.
  std::cout << "\n[8] the tool submits scores (POST /api/v1/scores), gradebridge delivers them through AGS\n";
  auto api = [&](const std::string& method, const std::string& path, const std::string& body) {
    http::Request r;
    r.method = method;
    r.url = gb + path;
    r.headers.Set("Authorization", "Bearer " + tenant->api_key);
    if (!body.empty()) r.headers.Set("Content-Type", "application/json");
    r.body = body;
    return client->Send(r);
  };
  struct Grade {
    std::string user, link;
    double given, maximum;
    json graded_by;
  };
  std::vector<Grade> grades = {
      {"learner1", "rl-quiz-1", 27, 40, {{"kind", "ai"}, {"id", "quiz-engine"}, {"model", "grader-2026-11"}}},
      {"learner2", "rl-essay", 8, 10, {{"kind", "ai"}, {"id", "essay-engine"}, {"model", "grader-2026-11"}}},
      {"learner1", "rl-quiz-1", 35, 40, {{"kind", "human"}, {"id", "instructor"}}},  // a teacher's correction
  };
  std::vector<std::pair<std::string, std::string>> submitted;  // id, label
  int64_t second = 0;
  for (const auto& g : grades) {
    std::string launch_id;
    for (const auto& l : demo_tool.redeemed()) {
      if (l["user"].value("id", "") == g.user && l["resource_link"].is_object() &&
          l["resource_link"].value("id", "") == g.link) {
        launch_id = l.value("id", "");
      }
    }
    if (launch_id.empty()) return fail(Error(Code::kInternal, "demo.no_launch", "no launch for " + g.user));
    json body = {{"launch_id", launch_id},
                 {"score_given", g.given},
                 {"score_maximum", g.maximum},
                 {"graded_by", g.graded_by},
                 {"timestamp", FormatIso8601Millis(SystemClock::Instance().Now() + std::chrono::seconds(second++))}};
    auto resp = api("POST", "/api/v1/scores", body.dump());
    if (!resp.ok() || resp->status != 202) {
      return fail(resp.ok() ? Error(Code::kInternal, "demo.score_refused", resp->body) : resp.status());
    }
    std::string id = json::parse(resp->body).value("id", "");
    std::string label = g.user + " " + g.link + " " + FormatDecimal(g.given) + "/" + FormatDecimal(g.maximum) + " by " +
                        g.graded_by.value("kind", "") + ":" + g.graded_by.value("id", "");
    submitted.emplace_back(id, label);
  }
  int undelivered = 0;
  for (const auto& [id, label] : submitted) {
    json status;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto resp = api("GET", "/api/v1/scores/" + id, "");
      if (resp.ok() && resp->status == 200) status = json::parse(resp->body, nullptr, false);
      std::string state = status.is_object() ? status.value("status", "") : "";
      if (state != "" && state != "queued" && state != "delivering") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string state = status.is_object() ? status.value("status", "?") : "?";
    // A correction may supersede the first score before it leaves: also a good outcome.
    if (state != "delivered" && state != "superseded") ++undelivered;
    std::cout << "    " << Pad(label, 48) << Pad(state, 11)
              << (status.is_object() ? status.value("diagnosis", "") : "") << "\n";
  }

  // 9. What the teacher sees: the simulator's gradebook.
  std::cout << "\n[9] the LMS gradebook (" << simulator.base_url() << "/sim/gradebook)\n";
  http::Request book_request;
  book_request.method = "GET";
  book_request.url = simulator.base_url() + "/sim/api/gradebook";
  auto book_resp = client->Send(book_request);
  if (!book_resp.ok()) return fail(book_resp.status());
  json book = json::parse(book_resp->body, nullptr, false);
  std::cout << "    " << Pad("", 20);
  for (const auto& item : book["line_items"]) {
    std::cout << Pad(item.value("label", "") + " (/" + FormatDecimal(item.value("scoreMaximum", 0.0)) + ")", 18);
  }
  std::cout << "\n";
  for (const auto& user : book["users"]) {
    if (user.value("role", "") != "Learner") continue;
    std::cout << "    " << Pad(user.value("name", ""), 20);
    for (const auto& item : book["line_items"]) {
      json cell = item["results"].value(user.value("id", ""), json());
      bool graded = cell.is_object() && cell["resultScore"].is_number();
      std::cout << Pad(graded ? FormatDecimal(cell["resultScore"].get<double>()) : "-", 18);
    }
    std::cout << "\n";
  }
  unexpected += undelivered;

  std::cout << "\n" << (unexpected == 0 ? "demo complete: every launch behaved as expected and every score reached the gradebook\n"
                                        : "demo finished with " + std::to_string(unexpected) + " unexpected results\n");

  if (keep_running) {
    std::cout << "servers stay up; press Ctrl-C to stop. Try " << simulator.base_url() << "/sim/\n" << std::flush;
    WaitForTerminationSignal();
  }
  tool_server.Stop();
  tool_server.Join();
  (*tool_app)->Stop();
  simulator.Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return unexpected == 0 ? 0 : 1;
}

}  // namespace gb::app
