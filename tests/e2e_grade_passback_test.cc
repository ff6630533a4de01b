// The Learnosity-compatible POST /lti/grade_passback against a running server, with passback keys
// made by the gradebridge CLI exactly as an administrator would: accepted only for the key's
// tenant's registration and hosts, validated, idempotent, and with credentials that open this
// endpoint and nothing else.
#include <gtest/gtest.h>

#include "base/strings.h"
#include "e2e_fixture.h"

namespace gb::testing {
namespace {

struct KeyPair {
  std::string key, secret;
};

class GradePassbackE2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  KeyPair AddKey(const std::string& tenant) {
    auto r = env.Cli({"passback-key", "add", "--tenant", tenant, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_object()) return {};
    return {j.value("key", ""), j.value("secret", "")};
  }

  // What Learnosity forwards from lis_data for the Canvas-shaped registration, plus the score.
  nlohmann::json Body(const KeyPair& k) {
    auto reg = env.Cli({"registration", "show", env.canvas.registration_id, "--json"});
    EXPECT_EQ(reg.exit_code, 0) << reg.err;
    auto r = nlohmann::json::parse(reg.out);
    return {{"oauth_consumer_key", k.key},
            {"lineitems", env.sim_url + "/sim/api/lti/courses/1001/line_items"},
            {"resource_link_id", "rl-quiz-1"},
            {"token_url", r["token_url"]},
            {"token_aud", r["token_audience"]},
            {"client_id", env.canvas.client_id},
            {"user_id", "learner1"},
            {"data", {{"score", 8}, {"max_score", 10}}}};
  }

  http::Response Post(const std::string& path, const std::string& body, const std::string& authorization,
                      const std::string& idempotency = "") {
    http::Request req;
    req.method = "POST";
    req.url = env.gb_url + path;
    req.headers.Set("Content-Type", "application/json");
    if (!authorization.empty()) req.headers.Set("Authorization", authorization);
    if (!idempotency.empty()) req.headers.Set("Idempotency-Key", idempotency);
    req.body = body;
    auto resp = env.client->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
  http::Response Passback(const nlohmann::json& body, const KeyPair& k, const std::string& idempotency = "") {
    return Post("/lti/grade_passback", body.dump(), Basic(k.key, k.secret), idempotency);
  }
  static std::string Basic(const std::string& user, const std::string& password) {
    return "Basic " + Base64Encode(user + ":" + password);
  }
  static std::string ErrorOf(const http::Response& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("error", "") : "";
  }
  int64_t QueuedTotal() {
    auto status = env.Cli({"queue", "status", "--json"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    int64_t total = 0;
    nlohmann::json counts = nlohmann::json::parse(status.out);  // outlives the loop over its items
    for (auto& [state, n] : counts["by_state"].items()) total += n.get<int64_t>();
    return total;
  }
};

TEST_F(GradePassbackE2eTest, AcceptedScoreIsQueuedWithLearnositysValues) {
  KeyPair k = AddKey("school-a");
  ASSERT_FALSE(k.secret.empty());
  auto r = Passback(Body(k), k);
  ASSERT_EQ(r.status, 200) << r.body;
  auto out = nlohmann::json::parse(r.body);
  const std::string id = out["id"];
  EXPECT_EQ(out["status"], "queued");

  // The tenant sees it through the score API like any other score.
  auto status = env.Get(env.gb_url + "/api/v1/scores/" + id, env.api_key);
  ASSERT_EQ(status.status, 200) << status.body;
  auto s = nlohmann::json::parse(status.body);
  EXPECT_EQ(s["registration_id"], env.canvas.registration_id);
  EXPECT_EQ(s["user_id"], "learner1");
  EXPECT_EQ(s["score_given"], 8);
  EXPECT_EQ(s["score_maximum"], 10);
  EXPECT_EQ(s["resource_link_id"], "rl-quiz-1");
  EXPECT_EQ(s["activity_progress"], "Completed");
  EXPECT_EQ(s["grading_progress"], "FullyGraded");
  EXPECT_EQ(s["graded_by"]["kind"], "system");
  EXPECT_EQ(s["graded_by"]["id"], "learnosity");
  // Another tenant cannot see it.
  EXPECT_EQ(env.Get(env.gb_url + "/api/v1/scores/" + id, env.other_api_key).status, 404);
}

TEST_F(GradePassbackE2eTest, CredentialsOpenOnlyTheirOwnEndpoint) {
  KeyPair k = AddKey("school-a");
  const std::string body = Body(k).dump();
  auto wrong = Post("/lti/grade_passback", body, Basic(k.key, k.secret + "x"));
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(wrong.headers.Get("WWW-Authenticate").value_or(""), "Basic realm=\"gradebridge\"");
  EXPECT_EQ(ErrorOf(wrong), "grade_passback.bad_credentials");
  EXPECT_EQ(Post("/lti/grade_passback", body, "").status, 401);

  // The tenant API key does not work on the passback endpoint, whichever way it is sent.
  EXPECT_EQ(Post("/lti/grade_passback", body, "Bearer " + env.api_key).status, 401);
  EXPECT_EQ(Post("/lti/grade_passback", body, Basic("school-a", env.api_key)).status, 401);
  EXPECT_EQ(Post("/lti/grade_passback", body, Basic(k.key, env.api_key)).status, 401);

  // The passback key does not work on the tool API.
  nlohmann::json score = {{"registration_id", env.canvas.registration_id},
                          {"lineitem_url", env.sim_url + "/sim/api/lti/courses/1001/line_items/1"},
                          {"user_id", "learner1"},
                          {"score_given", 5},
                          {"score_maximum", 10}};
  EXPECT_EQ(Post("/api/v1/scores", score.dump(), Basic(k.key, k.secret)).status, 401);
  EXPECT_EQ(Post("/api/v1/scores", score.dump(), "Bearer " + k.secret).status, 401);
  EXPECT_EQ(Post("/api/v1/scores", score.dump(), "Bearer " + k.key).status, 401);
  EXPECT_EQ(env.Get(env.gb_url + "/api/v1/scores/s_anything", k.secret).status, 401);

  // A removed key stops working at once, against the running server.
  auto removed = env.Cli({"passback-key", "remove", k.key});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(Post("/lti/grade_passback", body, Basic(k.key, k.secret)).status, 401);
}

TEST_F(GradePassbackE2eTest, OnlyTheKeysTenantsRegistrationAndHostsAreAccepted) {
  KeyPair mine = AddKey("school-a");
  KeyPair theirs = AddKey("school-b");
  const int64_t before = QueuedTotal();

  auto body = Body(mine);
  body["lineitems"] = "https://attacker.test/api/lti/courses/1001/line_items";
  auto r = Passback(body, mine);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorOf(r), "grade_passback.host_not_allowed");

  body = Body(mine);
  body["token_url"] = env.sim_url + "/some/other/token";
  r = Passback(body, mine);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(ErrorOf(r), "grade_passback.unknown_registration");

  // school-b's key naming school-a's registration: not found, as if it did not exist.
  r = Passback(Body(theirs), theirs);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(ErrorOf(r), "grade_passback.unknown_registration");

  EXPECT_EQ(QueuedTotal(), before);
}

TEST_F(GradePassbackE2eTest, InvalidScoresAreRefusedAndNotStored) {
  KeyPair k = AddKey("school-a");
  const int64_t before = QueuedTotal();
  auto body = Body(k);
  body["data"]["score"] = "NaN";
  auto r = Passback(body, k);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorOf(r), "score.not_a_number");

  std::string raw = Body(k).dump();
  raw.replace(raw.find("\"score\":8"), 9, "\"score\":NaN");
  r = Post("/lti/grade_passback", raw, Basic(k.key, k.secret));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorOf(r), "grade_passback.bad_json");

  body = Body(k);
  body["data"]["score"] = 11;
  r = Passback(body, k);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorOf(r), "score.above_maximum");

  EXPECT_EQ(Post("/lti/grade_passback", std::string(100 * 1024, ' '), Basic(k.key, k.secret)).status, 413);
  EXPECT_EQ(QueuedTotal(), before);
}

TEST_F(GradePassbackE2eTest, ARetryWithTheSameIdempotencyKeyGetsTheSameId) {
  KeyPair k = AddKey("school-a");
  auto body = Body(k);
  body["user_id"] = "learner2";
  auto first = Passback(body, k, "learnosity-session-7");
  ASSERT_EQ(first.status, 200) << first.body;
  auto retry = Passback(body, k, "learnosity-session-7");
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(nlohmann::json::parse(retry.body)["id"], nlohmann::json::parse(first.body)["id"]);
  EXPECT_EQ(nlohmann::json::parse(retry.body)["duplicate"], true);
}

TEST_F(GradePassbackE2eTest, KeysAreListedWithoutSecretsAndManagedByTenant) {
  KeyPair k = AddKey("school-a");
  auto list = env.Cli({"passback-key", "list", "--tenant", "school-a", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(k.key), std::string::npos);
  EXPECT_EQ(list.out.find(k.secret), std::string::npos);
  EXPECT_EQ(list.out.find("secret"), std::string::npos);
  auto other = env.Cli({"passback-key", "list", "--tenant", "school-b"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(other.out.find(k.key), std::string::npos);
  auto human = env.Cli({"passback-key", "list"});
  ASSERT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find(k.key), std::string::npos);
  EXPECT_EQ(human.out.find(k.secret), std::string::npos);

  EXPECT_EQ(env.Cli({"passback-key", "add", "--tenant", "no-such-school"}).exit_code, 2);
  EXPECT_EQ(env.Cli({"passback-key", "remove", "gbpk_nope"}).exit_code, 2);
  ASSERT_EQ(env.Cli({"passback-key", "remove", k.key}).exit_code, 0);
  EXPECT_EQ(env.Cli({"passback-key", "remove", k.key}).exit_code, 2);
}

}  // namespace
}  // namespace gb::testing
