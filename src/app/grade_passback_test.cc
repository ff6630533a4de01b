// POST /lti/grade_passback against a real (in-memory) store: Basic auth with passback keys only,
// registration resolution confined to the key's tenant, URL host checks, validation, and the
// shared intake (committed before 200, idempotent with Idempotency-Key).
#include "app/grade_passback.h"

#include <gtest/gtest.h>

#include "app/admin.h"
#include "base/random.h"
#include "base/strings.h"
#include "storage/sqlite/sqlite_store.h"

namespace gb::app {
namespace {

using nlohmann::json;

class GradePassbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = storage::SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(opened).value();
    auto a = AddTenant(*store, "school-a");
    auto b = AddTenant(*store, "school-b");
    ASSERT_TRUE(a.ok() && b.ok());
    tenant_a = *a;
    tenant_b = *b;
    reg_a = AddReg("school-a", "https://canvas.example.edu", "10001", "https://sso.example.edu/token");
    reg_b = AddReg("school-b", "https://moodle.example.org", "20002", "https://moodle.example.org/token");
    auto ka = AddPassbackKey(*store, "school-a");
    auto kb = AddPassbackKey(*store, "school-b");
    ASSERT_TRUE(ka.ok() && kb.ok());
    key_a = *ka;
    key_b = *kb;
    scores = std::make_unique<ScoreApi>(*store, *store, *store, clock, random,
                                        [](const http::Request&) -> Result<lti::Tenant> {
                                          return Error(Code::kUnauthenticated, "api.bad_key", "not used here");
                                        });
    api = std::make_unique<GradePassbackApi>(*store, *store, *scores, clock);
  }

  lti::Registration AddReg(const std::string& tenant, const std::string& issuer, const std::string& client_id,
                           const std::string& token_url) {
    RegistrationInput in;
    in.tenant = tenant;
    in.issuer = issuer;
    in.client_id = client_id;
    in.deployment_ids = {"dep-1"};
    in.auth_url = issuer + "/auth";
    in.token_url = token_url;
    in.jwks_url = issuer + "/jwks";
    auto r = AddRegistration(*store, in, /*dev_mode=*/false);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : lti::Registration{};
  }

  json Body() const {
    return {{"oauth_consumer_key", key_a.key.id},
            {"lineitems", "https://canvas.example.edu/api/lti/courses/7/line_items"},
            {"resource_link_id", "rl-quiz-1"},
            {"token_url", "https://sso.example.edu/token"},
            {"token_aud", "https://sso.example.edu/token"},
            {"client_id", "10001"},
            {"user_id", "student-123"},
            {"data", {{"score", 8}, {"max_score", 10}}}};
  }

  static std::string Basic(const std::string& user, const std::string& password) {
    return "Basic " + Base64Encode(user + ":" + password);
  }

  http::Response Post(const std::string& body, const std::string& authorization, const std::string& idempotency = "") {
    http::Request req;
    req.method = "POST";
    req.url = "http://127.0.0.1/lti/grade_passback";
    req.headers.Set("Content-Type", "application/json");
    if (!authorization.empty()) req.headers.Set("Authorization", authorization);
    if (!idempotency.empty()) req.headers.Set("Idempotency-Key", idempotency);
    req.body = body;
    return api->Handle(req);
  }
  http::Response Post(const json& body) { return Post(body.dump(), Basic(key_a.key.id, key_a.secret)); }

  static std::string ErrorOf(const http::Response& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("error", "") : "";
  }
  int64_t Stored() {
    auto list = store->ListScores(std::nullopt, 1000);
    return list.ok() ? static_cast<int64_t>(list->size()) : -1;
  }

  FakeClock clock;
  SeededRandom random{42};
  std::unique_ptr<storage::SqliteStore> store;
  NewTenant tenant_a, tenant_b;
  lti::Registration reg_a, reg_b;
  NewPassbackKey key_a, key_b;
  std::unique_ptr<ScoreApi> scores;
  std::unique_ptr<GradePassbackApi> api;
};

TEST_F(GradePassbackTest, AcceptsLearnositysShapeAndQueuesTheScore) {
  auto r = Post(Body());
  ASSERT_EQ(r.status, 200) << r.body;
  auto out = json::parse(r.body);
  EXPECT_EQ(out["status"], "queued");
  auto s = store->GetScore(tenant_a.tenant.id, out["id"].get<std::string>());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->registration_id, reg_a.id);
  EXPECT_EQ(s->user_id, "student-123");
  EXPECT_EQ(s->score_given, 8.0);
  EXPECT_EQ(s->score_maximum, 10.0);
  EXPECT_EQ(s->lineitems_url, "https://canvas.example.edu/api/lti/courses/7/line_items");
  EXPECT_EQ(s->lineitem_url, "");
  EXPECT_EQ(s->resource_link_id, "rl-quiz-1");
  EXPECT_EQ(s->activity_progress, "Completed");
  EXPECT_EQ(s->grading_progress, "FullyGraded");
  EXPECT_EQ(s->graded_by.kind, "system");
  EXPECT_EQ(s->graded_by.id, "learnosity");
  EXPECT_EQ(s->timestamp_ms, clock.NowMillis());
  EXPECT_EQ(s->state, passback::ScoreState::kQueued);
}

TEST_F(GradePassbackTest, ALineItemUrlAndGradedByAreTakenWhenSent) {
  json body = Body();
  body.erase("resource_link_id");
  body["lineitem"] = "https://canvas.example.edu/api/lti/courses/7/line_items/3";
  body["graded_by"] = {{"kind", "ai"}, {"id", "essay-engine"}, {"model", "v2"}};
  auto r = Post(body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto s = store->GetScore(tenant_a.tenant.id, json::parse(r.body)["id"].get<std::string>());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->lineitem_url, "https://canvas.example.edu/api/lti/courses/7/line_items/3");
  EXPECT_EQ(s->graded_by.kind, "ai");
  EXPECT_EQ(s->graded_by.model, "v2");
}

TEST_F(GradePassbackTest, OnlyAPassbackKeyPairAuthenticates) {
  const std::string body = Body().dump();
  struct Case {
    std::string authorization, what;
  };
  std::vector<Case> cases = {
      {"", "no credentials"},
      {Basic(key_a.key.id, key_a.secret + "x"), "wrong secret"},
      {Basic(key_a.key.id, ""), "empty secret"},
      {Basic("gbpk_unknown", key_a.secret), "unknown key"},
      {Basic(key_b.key.id, key_a.secret), "another key's secret"},
      {Basic(tenant_a.tenant.name, tenant_a.api_key), "tenant API key as Basic"},
      {Basic(key_a.key.id, tenant_a.api_key), "tenant API key as the secret"},
      {"Bearer " + tenant_a.api_key, "tenant API key as Bearer"},
      {"Bearer " + key_a.secret, "passback secret as Bearer"},
      {"Basic !!!not-base64", "malformed Basic"},
      {"Basic " + Base64Encode(key_a.key.id + key_a.secret), "no colon"},
  };
  for (const auto& c : cases) {
    auto r = Post(body, c.authorization);
    EXPECT_EQ(r.status, 401) << c.what << " -> " << r.body;
    EXPECT_EQ(r.headers.Get("WWW-Authenticate").value_or(""), "Basic realm=\"gradebridge\"") << c.what;
    EXPECT_TRUE(StartsWith(ErrorOf(r), "grade_passback.")) << c.what << " -> " << r.body;
  }
  EXPECT_EQ(Stored(), 0);
  // The scheme name is case-insensitive (RFC 7617).
  EXPECT_EQ(Post(body, "basic " + Base64Encode(key_a.key.id + ":" + key_a.secret)).status, 200);
}

TEST_F(GradePassbackTest, ARemovedKeyStopsWorking) {
  ASSERT_TRUE(store->RemovePassbackKey(key_a.key.id).ok());
  EXPECT_EQ(Post(Body()).status, 401);
}

TEST_F(GradePassbackTest, TheRegistrationMustBeTheKeysTenantsWithThisClientIdAndTokenUrl) {
  struct Case {
    std::string field, value;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {"client_id", "99999", 404, "grade_passback.unknown_registration"},
      {"token_url", "https://sso.example.edu/other-token", 404, "grade_passback.unknown_registration"},
      // school-b's registration: right client_id and token_url, wrong tenant.
      {"client_id", "20002", 404, "grade_passback.unknown_registration"},
      {"lineitems", "https://attacker.test/api/lti/courses/7/line_items", 403, "grade_passback.host_not_allowed"},
      {"lineitem", "https://attacker.test/line_items/3", 403, "grade_passback.host_not_allowed"},
      {"lineitems", "not a url", 403, "grade_passback.host_not_allowed"},
      {"oauth_consumer_key", key_b.key.id, 400, "grade_passback.consumer_key_mismatch"},
  };
  for (const auto& c : cases) {
    json body = Body();
    body[c.field] = c.value;
    if (c.value == "20002") body["token_url"] = "https://moodle.example.org/token";
    auto r = Post(body);
    EXPECT_EQ(r.status, c.status) << c.field << "=" << c.value << " -> " << r.body;
    EXPECT_EQ(ErrorOf(r), c.error) << c.field << "=" << c.value << " -> " << r.body;
  }
  EXPECT_EQ(Stored(), 0);
  // school-b's own key reaches school-b's registration.
  json body = Body();
  body["oauth_consumer_key"] = key_b.key.id;
  body["client_id"] = "20002";
  body["token_url"] = "https://moodle.example.org/token";
  body["lineitems"] = "https://moodle.example.org/mod/lti/services.php/2/lineitems?type_id=1";
  EXPECT_EQ(Post(body.dump(), Basic(key_b.key.id, key_b.secret)).status, 200);
}

TEST_F(GradePassbackTest, InvalidBodiesAndScoresAreRefusedAndNotStored) {
  auto with = [&](const std::function<void(json&)>& edit) {
    json b = Body();
    edit(b);
    return b.dump();
  };
  struct Case {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {with([](json& b) { b["data"]["score"] = "NaN"; }), 400, "score.not_a_number"},
      {R"({"client_id":"10001","data":{"score":NaN,"max_score":10}})", 400, "grade_passback.bad_json"},
      {with([](json& b) { b["data"]["score"] = 11; }), 400, "score.above_maximum"},
      {with([](json& b) { b["data"]["score"] = -1; }), 400, "score.negative"},
      {with([](json& b) { b["data"]["max_score"] = 0; }), 400, "score.bad_maximum"},
      {with([](json& b) { b["data"].erase("max_score"); }), 400, "grade_passback.missing_field"},
      {with([](json& b) { b.erase("data"); }), 400, "grade_passback.missing_field"},
      {with([](json& b) { b.erase("user_id"); }), 400, "grade_passback.missing_field"},
      {with([](json& b) { b.erase("lineitems"); }), 400, "grade_passback.missing_field"},
      {with([](json& b) { b["client_id"] = 10001; }), 400, "score.bad_field"},
      {with([](json& b) { b.erase("resource_link_id"); }), 400, "grade_passback.missing_target"},
      {with([](json& b) { b["graded_by"] = {{"kind", "robot"}}; }), 400, "score.bad_graded_by"},
      {"[1,2,3]", 400, "grade_passback.bad_json"},
  };
  for (const auto& c : cases) {
    auto r = Post(c.body, Basic(key_a.key.id, key_a.secret));
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(ErrorOf(r), c.error) << c.body << " -> " << r.body;
  }
  http::Request form;
  form.method = "POST";
  form.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  form.headers.Set("Authorization", Basic(key_a.key.id, key_a.secret));
  form.body = "score=1";
  EXPECT_EQ(api->Handle(form).status, 422);
  EXPECT_EQ(Stored(), 0);
}

TEST_F(GradePassbackTest, AnIdempotencyKeyMakesARetryReturnTheSameId) {
  auto first = Post(Body().dump(), Basic(key_a.key.id, key_a.secret), "session-42");
  ASSERT_EQ(first.status, 200) << first.body;
  clock.Advance(std::chrono::seconds(30));
  auto retry = Post(Body().dump(), Basic(key_a.key.id, key_a.secret), "session-42");
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(json::parse(retry.body)["id"], json::parse(first.body)["id"]);
  EXPECT_EQ(json::parse(retry.body)["duplicate"], true);
  EXPECT_EQ(Stored(), 1);
  auto s = store->GetScore(tenant_a.tenant.id, json::parse(first.body)["id"].get<std::string>());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->idempotency_key, "grade_passback:session-42");

  // Without the header every POST is a new score; the newer one supersedes the queued older one.
  auto a = Post(Body());
  clock.Advance(std::chrono::seconds(1));
  auto b = Post(Body());
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_NE(json::parse(a.body)["id"], json::parse(b.body)["id"]);
  EXPECT_EQ(json::parse(b.body)["supersedes"][0], json::parse(a.body)["id"]);
}

}  // namespace
}  // namespace gb::app
