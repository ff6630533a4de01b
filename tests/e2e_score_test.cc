// Score intake through the tool API against a running server: accepted only once durable,
// idempotent, validated, and confined to the caller's tenant and registered hosts.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "e2e_fixture.h"

namespace gb::testing {
namespace {

class ScoreE2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  // Runs `gradebridge registration update ARGS…` and waits until the running server's
  // registration cache has let go of the old registration.
  void UpdateRegistration(std::vector<std::string> args) {
    args.insert(args.begin(), {"registration", "update", env.canvas.registration_id});
    auto r = env.Cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(E2eEnvironment::kRegistrationCacheMs + 100));
  }

  // A learner's launch, handed off and redeemed; returns the redeemed launch JSON.
  nlohmann::json LaunchAs(const std::string& user) {
    auto outcome = env.Launch(env.LaunchUrl(env.canvas, user, "rl-quiz-1"));
    EXPECT_EQ(outcome.status, 303) << outcome.body;
    std::string token = outcome.location.substr(outcome.location.find('=') + 1);
    auto redeemed = env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key);
    EXPECT_EQ(redeemed.status, 200) << redeemed.body;
    return nlohmann::json::parse(redeemed.body, nullptr, false);
  }

  http::Response Post(const nlohmann::json& body, const std::string& key, const std::string& idempotency = "") {
    return PostRaw(body.dump(), key, idempotency);
  }
  http::Response PostRaw(const std::string& body, const std::string& key, const std::string& idempotency = "",
                         const std::string& content_type = "application/json") {
    http::Request req;
    req.method = "POST";
    req.url = env.gb_url + "/api/v1/scores";
    req.headers.Set("Content-Type", content_type);
    if (!key.empty()) req.headers.Set("Authorization", "Bearer " + key);
    if (!idempotency.empty()) req.headers.Set("Idempotency-Key", idempotency);
    req.body = body;
    auto resp = env.client->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
  static std::string ErrorOf(const http::Response& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("error", "") : "";
  }
};

TEST_F(ScoreE2eTest, AScoreForALaunchIsAcceptedDurablyAndIdempotently) {
  auto launch = LaunchAs("learner1");
  nlohmann::json score = {{"launch_id", launch["id"]},
                          {"score_given", 27},
                          {"score_maximum", 40},
                          {"graded_by", {{"kind", "ai"}, {"id", "essay-engine"}, {"model", "m-2026-11"}}}};
  auto first = Post(score, env.api_key, "attempt-1-" + launch["id"].get<std::string>());
  ASSERT_EQ(first.status, 202) << first.body;
  auto id = nlohmann::json::parse(first.body)["id"].get<std::string>();
  EXPECT_EQ(first.headers.Get("Location").value_or(""), "/api/v1/scores/" + id);

  auto again = Post(score, env.api_key, "attempt-1-" + launch["id"].get<std::string>());
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(nlohmann::json::parse(again.body)["id"], id);
  EXPECT_EQ(nlohmann::json::parse(again.body)["duplicate"], true);

  auto status = env.Get(env.gb_url + "/api/v1/scores/" + id, env.api_key);
  ASSERT_EQ(status.status, 200) << status.body;
  auto s = nlohmann::json::parse(status.body);
  EXPECT_EQ(s["user_id"], "learner1");
  EXPECT_EQ(s["score_given"], 27);
  EXPECT_EQ(s["graded_by"]["kind"], "ai");
  EXPECT_FALSE(s["lineitem_url"].get<std::string>().empty());
  EXPECT_TRUE(s["status"] == "queued" || s["status"] == "delivering" || s["status"] == "delivered") << s["status"];

  // Tenant isolation: another tenant can neither read this score nor target this launch.
  EXPECT_EQ(env.Get(env.gb_url + "/api/v1/scores/" + id, env.other_api_key).status, 404);
  auto foreign = Post(score, env.other_api_key);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(ErrorOf(foreign), "score.unknown_launch");
}

TEST_F(ScoreE2eTest, ANewerScoreSupersedesAQueuedOne) {
  auto launch = LaunchAs("learner2");
  // Keep the first score waiting in the queue: the platform throttles everything for a while.
  auto throttle = [&](const nlohmann::json& faults) {
    http::Request req;
    req.method = "POST";
    req.url = env.sim_url + "/sim/api/faults";
    req.headers.Set("Content-Type", "application/json");
    req.body = faults.dump();
    ASSERT_EQ(env.client->Send(req)->status, 200);
  };
  throttle({{"error_429_probability", 1.0}, {"retry_after_seconds", 5}});
  auto a = Post({{"launch_id", launch["id"]}, {"score_given", 3}, {"score_maximum", 10},
                 {"timestamp", "2026-11-25T08:00:00.000Z"}},
                env.api_key);
  ASSERT_EQ(a.status, 202);
  // Wait until the first attempt was throttled and the score is back in the queue.
  std::string a_path = env.gb_url + "/api/v1/scores/" + nlohmann::json::parse(a.body)["id"].get<std::string>();
  for (int i = 0; i < 200; ++i) {
    auto st = nlohmann::json::parse(env.Get(a_path, env.api_key).body);
    if (st["status"] == "queued" && st["last_platform_status"] == 429) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto b = Post({{"launch_id", launch["id"]}, {"score_given", 9}, {"score_maximum", 10},
                 {"timestamp", "2026-11-25T08:05:00.000Z"}},
                env.api_key);
  ASSERT_EQ(a.status, 202);
  ASSERT_EQ(b.status, 202);
  throttle({{"reset", true}});
  auto a_id = nlohmann::json::parse(a.body)["id"].get<std::string>();
  auto b_json = nlohmann::json::parse(b.body);
  ASSERT_TRUE(b_json.contains("supersedes")) << b.body;
  EXPECT_EQ(b_json["supersedes"][0], a_id);
  auto a_status = nlohmann::json::parse(env.Get(env.gb_url + "/api/v1/scores/" + a_id, env.api_key).body);
  EXPECT_EQ(a_status["status"], "superseded");
  EXPECT_EQ(a_status["superseded_by"], b_json["id"]);
}

TEST_F(ScoreE2eTest, InvalidScoresAreRefusedAndNotStored) {
  auto launch = LaunchAs("learner3");
  auto id = launch["id"];
  struct Bad {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Bad> cases = {
      {nlohmann::json({{"launch_id", id}, {"score_given", "NaN"}, {"score_maximum", 10}}).dump(), 400, "score.not_a_number"},
      {R"({"launch_id":")" + id.get<std::string>() + R"(","score_given":NaN,"score_maximum":10})", 400, "score.bad_json"},
      {nlohmann::json({{"launch_id", id}, {"score_given", -1}, {"score_maximum", 10}}).dump(), 400, "score.negative"},
      {nlohmann::json({{"launch_id", id}, {"score_given", 11}, {"score_maximum", 10}}).dump(), 400, "score.above_maximum"},
      {nlohmann::json({{"launch_id", id}, {"score_given", 5}}).dump(), 400, "score.missing_maximum"},
      {nlohmann::json({{"launch_id", id}, {"score_given", 5}, {"score_maximum", 0}}).dump(), 400, "score.bad_maximum"},
      {nlohmann::json({{"launch_id", id}, {"score_given", 5}, {"score_maximum", 10}, {"grading_progress", "Done"}}).dump(),
       400, "score.bad_grading_progress"},
      {nlohmann::json({{"launch_id", id}, {"score_given", 5}, {"score_maximum", 10}, {"graded_by", {{"kind", "robot"}}}}).dump(),
       400, "score.bad_graded_by"},
      {nlohmann::json({{"launch_id", "L-nope"}, {"score_given", 5}, {"score_maximum", 10}}).dump(), 404, "score.unknown_launch"},
      {nlohmann::json({{"score_given", 5}, {"score_maximum", 10}}).dump(), 400, "score.missing_target"},
      {"[1,2,3]", 400, "score.bad_json"},
  };
  for (const auto& c : cases) {
    auto r = PostRaw(c.body, env.api_key);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(ErrorOf(r), c.error) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(PostRaw("{}", "").status, 401);
  EXPECT_EQ(PostRaw("{}", "gbk_wrong").status, 401);
  EXPECT_EQ(PostRaw("score=1", env.api_key, "", "application/x-www-form-urlencoded").status, 422);
  EXPECT_EQ(PostRaw(std::string(100 * 1024, ' '), env.api_key).status, 413);
}

TEST_F(ScoreE2eTest, ExplicitTargetsMustBeOnTheRegistrationsHosts) {
  nlohmann::json score = {{"registration_id", env.canvas.registration_id},
                          {"lineitem_url", "https://attacker.test/steal"},
                          {"user_id", "learner1"},
                          {"score_given", 5},
                          {"score_maximum", 10}};
  auto r = Post(score, env.api_key);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorOf(r), "score.host_not_allowed");
  score["lineitem_url"] = env.sim_url + "/sim/api/lti/courses/1001/line_items/1";
  auto ok = Post(score, env.api_key);
  EXPECT_EQ(ok.status, 202) << ok.body;
  // Another tenant cannot use this registration.
  auto foreign = Post(score, env.other_api_key);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(ErrorOf(foreign), "score.unknown_registration");
}

// Extra credit is a per-registration choice (registration update --allow-extra-credit), applied
// by the running server to launch and explicit targets alike, and refused by default.
TEST_F(ScoreE2eTest, ExtraCreditIsRefusedByDefaultAndAcceptedWhenTheRegistrationAllowsIt) {
  auto launch = LaunchAs("learner3");
  const nlohmann::json for_launch = {{"launch_id", launch["id"]}, {"score_given", 12}, {"score_maximum", 10}};
  const nlohmann::json explicit_target = {{"registration_id", env.canvas.registration_id},
                                          {"lineitem_url", env.sim_url + "/sim/api/lti/courses/1001/line_items/1"},
                                          {"user_id", "learner3"},
                                          {"score_given", 10.5},
                                          {"score_maximum", 10}};
  for (const auto& body : {for_launch, explicit_target}) {
    auto refused = Post(body, env.api_key);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(ErrorOf(refused), "score.above_maximum");
  }

  UpdateRegistration({"--allow-extra-credit"});
  std::vector<std::string> ids;
  for (const auto& body : {for_launch, explicit_target}) {
    auto accepted = Post(body, env.api_key);
    EXPECT_EQ(accepted.status, 202) << accepted.body;
    ids.push_back(nlohmann::json::parse(accepted.body, nullptr, false).value("id", ""));
  }
  for (const auto& id : ids) {
    auto status = env.Get(env.gb_url + "/api/v1/scores/" + id, env.api_key);
    ASSERT_EQ(status.status, 200) << status.body;
    EXPECT_GT(nlohmann::json::parse(status.body)["score_given"].get<double>(), 10);
  }
  // Still validated otherwise: negative scores stay refused with extra credit on.
  auto negative = Post({{"launch_id", launch["id"]}, {"score_given", -1}, {"score_maximum", 10}}, env.api_key);
  EXPECT_EQ(ErrorOf(negative), "score.negative");

  // Back to the default (the environment is shared by the tests of this process).
  UpdateRegistration({"--no-allow-extra-credit"});
  EXPECT_EQ(ErrorOf(Post(for_launch, env.api_key)), "score.above_maximum");
}

// An explicit target on a host the registration lists as a service host is accepted; with a
// port, only on that port.
TEST_F(ScoreE2eTest, ExplicitTargetsMayUseTheRegistrationsServiceHosts) {
  nlohmann::json score = {{"registration_id", env.canvas.registration_id},
                          {"lineitem_url", "https://school.instructure.com/api/lti/courses/1/line_items/7"},
                          {"user_id", "learner1"},
                          {"score_given", 5},
                          {"score_maximum", 10}};
  EXPECT_EQ(ErrorOf(Post(score, env.api_key)), "score.host_not_allowed");
  UpdateRegistration({"--add-service-host", "school.instructure.com", "--add-service-host", "api.school.edu:8443"});
  auto ok = Post(score, env.api_key);
  EXPECT_EQ(ok.status, 202) << ok.body;
  score["lineitem_url"] = "https://api.school.edu:8443/api/lti/courses/1/line_items/7";
  EXPECT_EQ(Post(score, env.api_key).status, 202);
  score["lineitem_url"] = "https://api.school.edu/api/lti/courses/1/line_items/7";
  EXPECT_EQ(ErrorOf(Post(score, env.api_key)), "score.host_not_allowed");

  UpdateRegistration({"--remove-service-host", "school.instructure.com", "--remove-service-host", "api.school.edu:8443"});
  score["lineitem_url"] = "https://school.instructure.com/api/lti/courses/1/line_items/7";
  EXPECT_EQ(ErrorOf(Post(score, env.api_key)), "score.host_not_allowed");
}

}  // namespace
}  // namespace gb::testing

#include <sqlite3.h>

namespace gb::testing {
namespace {

TEST_F(ScoreE2eTest, QueueAndAuditCommandsWorkAgainstTheLiveDatabase) {
  auto launch = LaunchAs("instructor");
  ASSERT_EQ(Post({{"launch_id", launch["id"]}, {"user_id", "learner1"}, {"score_given", 4}, {"score_maximum", 5},
                  {"graded_by", {{"kind", "human"}, {"id", "instructor"}}}},
                 env.api_key)
                .status,
            202);
  auto status = env.Cli({"queue", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto counts = nlohmann::json::parse(status.out);
  int64_t total = 0;
  for (auto& [state, n] : counts["by_state"].items()) total += n.get<int64_t>();
  EXPECT_GE(total, 1);
  auto list = env.Cli({"queue", "list", "--json", "--limit", "5"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_FALSE(nlohmann::json::parse(list.out).empty());
  EXPECT_EQ(env.Cli({"queue", "list", "--state", "lost"}).exit_code, 2);
  EXPECT_EQ(env.Cli({"queue", "retry"}).exit_code, 2);
  EXPECT_EQ(env.Cli({"queue", "retry", "s_nope"}).exit_code, 2);

  auto verify = env.Cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("intact"), std::string::npos);
  auto jsonl = env.Cli({"audit", "export", "--format", "jsonl"});
  ASSERT_EQ(jsonl.exit_code, 0);
  EXPECT_NE(jsonl.out.find("\"actor\":\"human:instructor\""), std::string::npos);
  auto csv = env.Cli({"audit", "export", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.out.rfind("seq,at,tenant_id", 0), 0u);

  // Tamper with a copy of the live database: verify must notice and fail.
  TempDir dir;
  std::string copy = dir.path() + "/copy.db";
  sqlite3 *src = nullptr, *dst = nullptr;
  ASSERT_EQ(sqlite3_open(env.db.substr(7).c_str(), &src), SQLITE_OK);
  ASSERT_EQ(sqlite3_open(copy.c_str(), &dst), SQLITE_OK);
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  ASSERT_NE(b, nullptr);
  sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  ASSERT_EQ(sqlite3_exec(dst, "UPDATE audit_log SET actor = 'human:someone-else' WHERE seq = 1", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(src);
  sqlite3_close(dst);
  auto tampered = RunCommand({GradebridgeBinary(), "audit", "verify", "--database", "sqlite:" + copy});
  EXPECT_EQ(tampered.exit_code, 1) << tampered.out;
  EXPECT_NE(tampered.out.find("ALTERED"), std::string::npos) << tampered.out;
}

}  // namespace
}  // namespace gb::testing
