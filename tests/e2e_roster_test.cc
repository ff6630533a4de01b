// Rosters end to end: `gradebridge roster sync` reads the simulator's NRPS endpoint (paged, then
// incrementally through rel="differences"), GET /api/v1/contexts/{id}/members serves the cache to
// the tool (and to no other tenant), and grade delivery re-reads the roster before declaring a
// score for an unknown user undeliverable (late enrolment).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/strings.h"
#include "e2e_fixture.h"

namespace gb::testing {
namespace {

using nlohmann::json;

constexpr char kCourse[] = "1001";

class RosterE2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  json LaunchAs(const std::string& user, const std::string& link) {
    auto outcome = env.Launch(env.LaunchUrl(env.canvas, user, link));
    EXPECT_EQ(outcome.status, 303) << outcome.body;
    std::string token = outcome.location.substr(outcome.location.find('=') + 1);
    auto redeemed = env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key);
    EXPECT_EQ(redeemed.status, 200) << redeemed.body;
    return json::parse(redeemed.body, nullptr, false);
  }
  http::Response Send(const std::string& method, const std::string& url, const std::string& body,
                      const std::string& bearer = "") {
    http::Request req;
    req.method = method;
    req.url = url;
    req.headers.Set("Content-Type", "application/json");
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    req.body = body;
    auto resp = env.client->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
  void SimRoster(const json& change) {
    auto r = Send("POST", env.sim_url + "/sim/api/roster", change.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  json Sync(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"roster", "sync", "--registration", env.canvas.registration_id, "--context",
                                     kCourse, "--json", "--dev-mode", "true"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = env.Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  json Members(const std::string& query = "", int want_status = 200, const std::string& key = "") {
    auto r = env.Get(env.gb_url + "/api/v1/contexts/" + kCourse + "/members" + query, key.empty() ? env.api_key : key);
    EXPECT_EQ(r.status, want_status) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  static json Find(const json& listing, const std::string& user) {
    for (const auto& m : listing["members"]) {
      if (m["user_id"] == user) return m;
    }
    return json();
  }
  std::string Submit(const json& score) {
    auto r = Send("POST", env.gb_url + "/api/v1/scores", score.dump(), env.api_key);
    EXPECT_EQ(r.status, 202) << r.body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("id", "") : "";
  }
  json WaitForOutcome(const std::string& id, std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    json s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = json::parse(env.Get(env.gb_url + "/api/v1/scores/" + id, env.api_key).body, nullptr, false);
      std::string state = s.value("status", "");
      if (state != "queued" && state != "delivering") return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return s;
  }
  json ScoreFor(const std::string& lineitem, const std::string& user) {
    return {{"registration_id", env.canvas.registration_id}, {"lineitem_url", lineitem}, {"context_id", kCourse},
            {"user_id", user}, {"score_given", 8}, {"score_maximum", 10}};
  }
};

TEST_F(RosterE2eTest, SyncPagesThenDifferencesAndTheToolReadsTheCache) {
  LaunchAs("learner1", "rl-quiz-1");  // the stored launch provides the memberships URL
  json full = Sync({"--full"});
  ASSERT_TRUE(full.is_object());
  EXPECT_EQ(full["mode"], "full");
  // 40 learners, the instructor and the TA, ten to a page (the sim's default).
  EXPECT_GE(full["received"].get<int>(), E2eEnvironment::kLearners + 2);
  EXPECT_GE(full["pages"].get<int>(), 5);
  EXPECT_TRUE(full["differences_available"].get<bool>());
  EXPECT_NE(full["memberships_url"].get<std::string>().find("/names_and_roles"), std::string::npos);

  json listing = Members();
  EXPECT_EQ(listing["registration_id"], env.canvas.registration_id);
  json grace = Find(listing, "learner1");
  ASSERT_TRUE(grace.is_object()) << listing.dump(2);
  EXPECT_EQ(grace["status"], "Active");
  EXPECT_EQ(grace["name"], "Grace Hopper");
  EXPECT_EQ(grace["role_names"], json::array({"Learner"}));
  json learners = Members("?role=Learner");
  EXPECT_TRUE(Find(learners, "instructor").is_null());
  EXPECT_FALSE(Find(learners, "learner2").is_null());

  // Another tenant, no key, bad filters: never this tenant's roster.
  Members("", 404, env.other_api_key);
  EXPECT_EQ(env.Get(env.gb_url + "/api/v1/contexts/1001/members").status, 401);
  EXPECT_EQ(Members("?status=Gone", 400)["error"], "roster.bad_status");
  EXPECT_EQ(Members("?registration=" + env.moodle.registration_id, 404)["error"], "roster.unknown_context");
  Members("?registration=not-mine", 404);
  EXPECT_EQ(env.Get(env.gb_url + "/api/v1/contexts/no-such-course/members", env.api_key).status, 404);

  // Run-time changes arrive through the differences link alone.
  SimRoster({{"action", "enrol"}, {"user_id", "late-a"}});
  json diff = Sync();
  EXPECT_EQ(diff["mode"], "differences");
  EXPECT_GE(diff["received"].get<int>(), 1);
  json late = Find(Members(), "late-a");
  ASSERT_TRUE(late.is_object());
  EXPECT_EQ(late["status"], "Active");
  EXPECT_FALSE(late.contains("name"));  // the platform sent none
  EXPECT_FALSE(late.contains("email"));

  SimRoster({{"action", "deactivate"}, {"user_id", "late-a"}});
  Sync();
  EXPECT_EQ(Find(Members(), "late-a")["status"], "Inactive");
  SimRoster({{"action", "drop"}, {"user_id", "late-a"}});
  Sync();
  EXPECT_TRUE(Find(Members(), "late-a").is_null());  // not a current member
  EXPECT_EQ(Find(Members("?status=Deleted"), "late-a")["status"], "Deleted");

  // The human-readable forms.
  auto summary = env.Cli({"roster", "sync", "--registration", env.canvas.registration_id, "--context", kCourse,
                          "--dev-mode", "true"});
  EXPECT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("differences sync of context 1001"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("next sync: differences only"), std::string::npos) << summary.out;
  EXPECT_EQ(summary.err.find("pages,"), std::string::npos);  // no progress line off a terminal
  auto text = env.Cli({"roster", "list", "--registration", env.canvas.registration_id, "--context", kCourse});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("learner1  Active  Learner  Grace Hopper"), std::string::npos) << text.out;
  auto missing = env.Cli({"roster", "sync", "--registration", "nope", "--context", kCourse, "--dev-mode", "true"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("registration.unknown"), std::string::npos) << missing.err;
}

TEST_F(RosterE2eTest, AScoreForAnUnknownUserReSyncsTheRosterBeforeItFails) {
  json launch = LaunchAs("learner2", "rl-quiz-1");
  const std::string lineitem = launch["ags"]["lineitem"];
  Sync();

  // Enrolled after the roster was read: the platform knows them, the score goes through.
  SimRoster({{"action", "enrol"}, {"user_id", "late-b"}, {"given_name", "Late"}, {"family_name", "Bloomer"}});
  json delivered = WaitForOutcome(Submit(ScoreFor(lineitem, "late-b")));
  EXPECT_EQ(delivered["status"], "delivered") << delivered.dump(2);

  // Never enrolled: refused by the platform, the roster re-read, then failed with the cause.
  std::string ghost = Submit(ScoreFor(lineitem, "ghost-1"));
  json failed = WaitForOutcome(ghost);
  ASSERT_EQ(failed["status"], "failed") << failed.dump(2);
  EXPECT_EQ(failed["attempts"], 1);
  const std::string diagnosis = failed["diagnosis"];
  EXPECT_NE(diagnosis.find("not enrolled in this context (late enrolment?)"), std::string::npos) << diagnosis;
  EXPECT_NE(diagnosis.find("User not found in course or is not a student"), std::string::npos) << diagnosis;
  // The re-sync was real: the cache now knows the user enrolled after the last manual sync.
  json late = Find(Members(), "late-b");
  ASSERT_TRUE(late.is_object());
  EXPECT_EQ(late["name"], "Late Bloomer");

  // Enrolled at last: replaying the failed score delivers it.
  SimRoster({{"action", "enrol"}, {"user_id", "ghost-1"}});
  auto retry = env.Cli({"queue", "retry", ghost});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  json replayed = WaitForOutcome(ghost);
  EXPECT_EQ(replayed["status"], "delivered") << replayed.dump(2);
}

}  // namespace
}  // namespace gb::testing
