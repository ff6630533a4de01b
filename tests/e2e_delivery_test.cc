// Grade delivery end to end: scores accepted by `gradebridge serve` reach the simulator's
// gradebook through AGS — with the platforms' rules, line item find-or-create, the final-grade
// guard, permanent-error diagnoses, and every fault the simulator can inject switched on at once.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "base/strings.h"
#include "base/time_util.h"
#include "e2e_fixture.h"

namespace gb::testing {
namespace {

using nlohmann::json;

class DeliveryE2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  void TearDown() override { SetFaults({{"reset", true}}); }

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

  std::string Submit(const json& score) {
    auto r = Send("POST", env.gb_url + "/api/v1/scores", score.dump(), env.api_key);
    EXPECT_EQ(r.status, 202) << r.body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("id", "") : "";
  }

  json Status(const std::string& id) {
    auto r = env.Get(env.gb_url + "/api/v1/scores/" + id, env.api_key);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // Polls until the score leaves queued/delivering (or the deadline passes).
  json WaitForOutcome(const std::string& id, std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    json s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = Status(id);
      std::string state = s.value("status", "");
      if (state != "queued" && state != "delivering") return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return s;
  }

  json Gradebook() { return json::parse(env.Get(env.sim_url + "/sim/api/gradebook").body, nullptr, false); }

  // The gradebook cell for `user` in the line item whose resourceLinkId or id matches.
  static json Cell(const json& gradebook, const std::string& item_match, const std::string& user) {
    for (const auto& item : gradebook["line_items"]) {
      if (item.value("resourceLinkId", "") == item_match || item.value("id", "") == item_match) {
        return item["results"].value(user, json());
      }
    }
    return json();
  }

  void SetFaults(const json& faults) {
    auto r = Send("POST", env.sim_url + "/sim/api/faults", faults.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::string MoodleItems() const {
    return env.sim_url + "/sim/api/lti/courses/1001/line_items?type_id=" + env.moodle.deployment_id;
  }
};

TEST_F(DeliveryE2eTest, LaunchScoreGradebook) {
  auto launch = LaunchAs("learner1", "rl-quiz-1");
  std::string id = Submit({{"launch_id", launch["id"]}, {"score_given", 7}, {"score_maximum", 10},
                           {"graded_by", {{"kind", "human"}, {"id", "instructor"}}}});
  json s = WaitForOutcome(id);
  ASSERT_EQ(s["status"], "delivered") << s.dump(2);
  EXPECT_EQ(s["attempts"], 1);
  EXPECT_EQ(s["last_platform_status"], 200);  // Canvas answers 200 {"resultUrl": ...}
  json cell = Cell(Gradebook(), "rl-quiz-1", "learner1");
  ASSERT_TRUE(cell.is_object());
  EXPECT_EQ(cell["resultScore"], 7);
  EXPECT_EQ(cell["gradingProgress"], "FullyGraded");
  EXPECT_EQ(cell["comment"], nullptr);  // comments stay home unless the registration opts in
}

TEST_F(DeliveryE2eTest, MaximumMismatchIsDeliveredAsGivenAndReported) {
  auto launch = LaunchAs("learner2", "rl-quiz-1");
  std::string id = Submit({{"launch_id", launch["id"]}, {"score_given", 27}, {"score_maximum", 40}});
  json s = WaitForOutcome(id);
  ASSERT_EQ(s["status"], "delivered") << s.dump(2);
  std::string diagnosis = s["diagnosis"];
  EXPECT_NE(diagnosis.find("differs from the line item's scoreMaximum (10)"), std::string::npos) << diagnosis;
  EXPECT_NE(diagnosis.find("6.75"), std::string::npos) << diagnosis;
  EXPECT_EQ(Cell(Gradebook(), "rl-quiz-1", "learner2")["resultScore"], 6.75);
}

TEST_F(DeliveryE2eTest, MoodleLineItemIsFoundOrCreatedOncePerResourceLink) {
  std::vector<std::string> ids;
  for (const char* user : {"learner1", "learner2", "learner3"}) {
    ids.push_back(Submit({{"registration_id", env.moodle.registration_id},
                          {"lineitems_url", MoodleItems()},
                          {"resource_link_id", "rl-essay"},
                          {"user_id", user},
                          {"score_given", 30},
                          {"score_maximum", 40}}));
  }
  std::string lineitem;
  for (const auto& id : ids) {
    json s = WaitForOutcome(id);
    ASSERT_EQ(s["status"], "delivered") << s.dump(2);
    EXPECT_EQ(s["last_platform_status"], 200);  // Moodle: 200 with an empty body
    if (lineitem.empty()) lineitem = s["lineitem_url"];
    EXPECT_EQ(s["lineitem_url"], lineitem);  // one column for everyone
  }
  EXPECT_NE(lineitem.find("?type_id="), std::string::npos) << lineitem;
  json book = Gradebook();
  int essay_columns = 0;
  for (const auto& item : book["line_items"]) essay_columns += item.value("resourceLinkId", "") == "rl-essay";
  EXPECT_EQ(essay_columns, 1);
  EXPECT_EQ(Cell(book, "rl-essay", "learner3")["resultScore"], 30);
}

TEST_F(DeliveryE2eTest, APlatformRefusalFailsAtOnceWithItsOwnWords) {
  auto launch = LaunchAs("learner1", "rl-quiz-1");
  // The instructor is not a student: Canvas answers 422.
  std::string id = Submit({{"registration_id", env.canvas.registration_id},
                           {"lineitem_url", launch["ags"]["lineitem"]},
                           {"user_id", "instructor"},
                           {"score_given", 5},
                           {"score_maximum", 10}});
  json s = WaitForOutcome(id);
  ASSERT_EQ(s["status"], "failed") << s.dump(2);
  EXPECT_EQ(s["attempts"], 1);
  EXPECT_EQ(s["last_platform_status"], 422);
  EXPECT_NE(s["diagnosis"].get<std::string>().find("not a student"), std::string::npos) << s.dump(2);
}

TEST_F(DeliveryE2eTest, AProgressUpdateNeverClearsADeliveredFinalGrade) {
  auto launch = LaunchAs("learner3", "rl-quiz-1");
  std::string final_id = Submit({{"launch_id", launch["id"]}, {"score_given", 8}, {"score_maximum", 10}});
  ASSERT_EQ(WaitForOutcome(final_id)["status"], "delivered");
  std::string progress_id =
      Submit({{"launch_id", launch["id"]}, {"activity_progress", "InProgress"}, {"grading_progress", "Pending"}});
  json s = WaitForOutcome(progress_id);
  EXPECT_EQ(s["status"], "superseded") << s.dump(2);
  EXPECT_NE(s["diagnosis"].get<std::string>().find("would clear the final grade 8/10"), std::string::npos);
  json cell = Cell(Gradebook(), "rl-quiz-1", "learner3");
  EXPECT_EQ(cell["resultScore"], 8);
  EXPECT_EQ(cell["cleared"], false);
}

// DESIGN §7 and issue 3's first proof: every fault at once, and still every accepted score ends
// delivered (or superseded by a newer one), each gradebook cell holds the newest value, and no
// cell ever went backwards.
TEST_F(DeliveryE2eTest, EveryFaultAtOnceLosesNothingAndRollsNothingBack) {
  auto launch = LaunchAs("learner1", "rl-quiz-1");
  std::string lineitem = launch["ags"]["lineitem"];
  SetFaults({{"latency_ms", 5},
             {"latency_jitter_ms", 20},
             {"error_429_probability", 0.08},
             {"retry_after_seconds", 1},
             {"error_500_probability", 0.08},
             {"drop_probability", 0.05},
             {"token_lifetime_seconds", 6},
             {"rate_limit", {{"enabled", true}, {"capacity", 700}, {"leak_per_second", 1500}}}});
  std::vector<std::string> users;
  for (int u = 1; u <= E2eEnvironment::kLearners; ++u) users.push_back("learner" + std::to_string(u));
  std::map<std::string, double> newest;
  std::vector<std::string> ids;
  auto base = std::chrono::system_clock::now() - std::chrono::hours(1);
  // 40 learners × 2 columns (Canvas's quiz, a Moodle essay column found or created on the fly) ×
  // 10 rounds of corrections, a round every 0.7 s so deliveries run long enough for tokens to expire.
  for (int round = 0; round < 10; ++round) {
    if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(700));
    for (const auto& user : users) {
      double value = (round * 7 + user.back()) % 11;
      std::string ts = FormatIso8601Millis(base + std::chrono::seconds(round));
      ids.push_back(Submit({{"registration_id", env.canvas.registration_id}, {"lineitem_url", lineitem},
                            {"user_id", user}, {"score_given", value}, {"score_maximum", 10}, {"timestamp", ts}}));
      newest["canvas " + user] = value;
      ids.push_back(Submit({{"registration_id", env.moodle.registration_id}, {"lineitems_url", MoodleItems()},
                            {"resource_link_id", "rl-essay"}, {"user_id", user}, {"score_given", value * 4},
                            {"score_maximum", 40}, {"timestamp", ts}}));
      newest["essay " + user] = value * 4;
    }
  }
  std::map<std::string, int> outcomes;
  for (const auto& id : ids) {
    json s = WaitForOutcome(id, std::chrono::seconds(120));
    outcomes[s.value("status", "?")]++;
    EXPECT_TRUE(s["status"] == "delivered" || s["status"] == "superseded") << s.dump(2);
  }
  EXPECT_GT(outcomes["delivered"], 0);
  json faults = json::parse(env.Get(env.sim_url + "/sim/api/faults").body);
  SetFaults({{"reset", true}});

  json book = Gradebook();
  for (const auto& user : users) {
    EXPECT_EQ(Cell(book, "rl-quiz-1", user)["resultScore"], newest["canvas " + user]) << user;
    EXPECT_EQ(Cell(book, "rl-essay", user)["resultScore"], newest["essay " + user]) << user;
    for (const char* item : {"rl-quiz-1", "rl-essay"}) {
      std::string last;
      const json cell = Cell(book, item, user);  // a named copy: the loop must not iterate a temporary
      for (const auto& h : cell["history"]) {
        std::string ts = h["timestamp"];
        EXPECT_GE(ts, last) << "a grade was rolled back for " << user << " in " << item;
        last = ts;
      }
    }
  }
  // The faults really happened.
  const json& counters = faults["counters"];
  EXPECT_GT(counters.value("http_429", 0), 0) << faults.dump();
  EXPECT_GT(counters.value("http_500", 0), 0) << faults.dump();
  EXPECT_GT(counters.value("dropped", 0), 0) << faults.dump();
  EXPECT_GT(counters.value("rate_limited", 0), 0) << faults.dump();
  EXPECT_GT(counters.value("early_token_expiry", 0), 0) << faults.dump();
}

}  // namespace
}  // namespace gb::testing
