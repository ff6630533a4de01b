#include "lti/ags_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "lti/claims.h"
#include "lti/test_fakes.h"
#include "lti/test_http.h"

namespace gb::lti {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string TokenJson(const std::string& token, const std::string& scope) {
  return json{{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", 3600}, {"scope", scope}}.dump();
}

std::string ScopeOf(const http::Request& token_request) {
  return FormValue(ParseForm(token_request.body).value_or(FormFields{}), "scope").value_or("");
}

constexpr char kCanvasItem[] = "https://school.instructure.com/api/lti/courses/1/line_items/7";
constexpr char kCanvasItems[] = "https://school.instructure.com/api/lti/courses/1/line_items";
constexpr char kMoodleItem[] = "https://moodle.school.edu/mod/lti/services.php/2/lineitems/3/lineitem?type_id=1";
constexpr char kMoodleItems[] = "https://moodle.school.edu/mod/lti/services.php/2/lineitems?type_id=1";

class AgsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_store_ = new testing::MemoryKeys;
    key_clock_ = new FakeClock;
    ring_ = new KeyRing(*key_store_, std::string(32, 'k'), *key_clock_, SecureRandom::Instance());
    ASSERT_TRUE(ring_->Load().ok());
  }
  static void TearDownTestSuite() {
    delete ring_;
    delete key_clock_;
    delete key_store_;
  }

  // Canvas with the token URL on the institution host, so AGS URLs there are allowed.
  static Registration Canvas() {
    Registration r;
    r.id = RegistrationId("reg-canvas");
    r.issuer = "https://canvas.instructure.com";
    r.client_id = "10000000000001";
    r.deployment_ids = {"dep-1"};
    r.auth_url = "https://sso.canvaslms.com/api/lti/authorize_redirect";
    r.token_url = "https://school.instructure.com/login/oauth2/token";
    r.jwks_url = "https://sso.canvaslms.com/api/lti/security/jwks";
    r.family = PlatformFamily::kCanvas;
    return r;
  }
  static Registration Moodle() {
    Registration r;
    r.id = RegistrationId("reg-moodle");
    r.issuer = "https://moodle.school.edu";
    r.client_id = "AbCdEfGhIjKlMnO";
    r.deployment_ids = {"1"};
    r.auth_url = "https://moodle.school.edu/mod/lti/auth.php";
    r.token_url = "https://moodle.school.edu/mod/lti/token.php";
    r.jwks_url = "https://moodle.school.edu/mod/lti/certs.php";
    r.family = PlatformFamily::kMoodle;
    return r;
  }

  static Score FinalScore() {
    Score s;
    s.user_id = "5323497";
    s.score_given = 83;
    s.score_maximum = 100;
    s.comment = "This is exceptional work.";
    s.activity_progress = ActivityProgress::kCompleted;
    s.grading_progress = GradingProgress::kFullyGraded;
    s.timestamp = TimePoint(std::chrono::milliseconds(1'700'000'000'123));
    return s;
  }

  void PushToken(const std::string& token, const std::string& scope) { http_.Push(200, TokenJson(token, scope)); }
  std::vector<http::Request> ServiceRequests() {
    std::vector<http::Request> out;
    for (auto& r : http_.requests()) {
      if (r.url.find("/token") == std::string::npos) out.push_back(r);
    }
    return out;
  }

  static testing::MemoryKeys* key_store_;
  static FakeClock* key_clock_;
  static KeyRing* ring_;
  FakeClock clock_;
  testing::ScriptedHttpClient http_;
  ServiceTokenClient tokens_{http_, *ring_, clock_, SecureRandom::Instance()};
  AgsClient ags_{http_, tokens_};
};
testing::MemoryKeys* AgsClientTest::key_store_ = nullptr;
FakeClock* AgsClientTest::key_clock_ = nullptr;
KeyRing* AgsClientTest::ring_ = nullptr;

TEST_F(AgsClientTest, PostScoreSendsTheExactRequest) {
  PushToken("tok-1", kScopeScore);
  http_.Push(200, R"({"resultUrl":"https://school.instructure.com/api/lti/courses/1/line_items/7/results/3"})",
             {{"Content-Type", "application/vnd.ims.lis.v1.score+json"}});
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->classification, Classification::kDelivered);
  EXPECT_TRUE(out->ok());
  EXPECT_EQ(out->result_url, "https://school.instructure.com/api/lti/courses/1/line_items/7/results/3");

  auto all = http_.requests();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].url, Canvas().token_url);
  EXPECT_EQ(ScopeOf(all[0]), kScopeScore);
  const http::Request& req = all[1];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, std::string(kCanvasItem) + "/scores");
  EXPECT_EQ(req.headers.Get("Content-Type"), "application/vnd.ims.lis.v1.score+json");
  EXPECT_EQ(req.headers.Get("Authorization"), "Bearer tok-1");
  json body = json::parse(req.body);
  EXPECT_EQ(body.size(), 7u) << body.dump();
  EXPECT_EQ(body["userId"], "5323497");
  EXPECT_EQ(body["scoreGiven"].get<double>(), 83);
  EXPECT_EQ(body["scoreMaximum"].get<double>(), 100);
  EXPECT_EQ(body["comment"], "This is exceptional work.");
  EXPECT_EQ(body["activityProgress"], "Completed");
  EXPECT_EQ(body["gradingProgress"], "FullyGraded");
  EXPECT_EQ(body["timestamp"], "2023-11-14T22:13:20.123Z");
}

TEST_F(AgsClientTest, ScoreJsonOmitsAbsentFieldsAndUsesExactNames) {
  Score s;
  s.user_id = "u1";
  s.activity_progress = ActivityProgress::kInitialized;
  s.grading_progress = GradingProgress::kNotReady;
  s.timestamp = TimePoint(std::chrono::milliseconds(1'700'000'000'005));
  EXPECT_EQ(ScoreToJson(s),
            R"({"activityProgress":"Initialized","gradingProgress":"NotReady","timestamp":"2023-11-14T22:13:20.005Z","userId":"u1"})");
  s.extensions_json = R"({"https://canvas.instructure.com/lti/submission":{"preserve_score":true}})";
  ASSERT_TRUE(ValidateScore(s).ok());
  EXPECT_TRUE(json::parse(ScoreToJson(s))["https://canvas.instructure.com/lti/submission"]["preserve_score"]);

  EXPECT_EQ(ActivityProgressName(ActivityProgress::kStarted), "Started");
  EXPECT_EQ(ActivityProgressName(ActivityProgress::kInProgress), "InProgress");
  EXPECT_EQ(ActivityProgressName(ActivityProgress::kSubmitted), "Submitted");
  EXPECT_EQ(GradingProgressName(GradingProgress::kPending), "Pending");
  EXPECT_EQ(GradingProgressName(GradingProgress::kPendingManual), "PendingManual");
  EXPECT_EQ(GradingProgressName(GradingProgress::kFailed), "Failed");
}

TEST_F(AgsClientTest, InvalidScoresAreRefusedWithoutSending) {
  std::vector<Score> bad(6, FinalScore());
  bad[0].user_id.clear();
  bad[1].score_maximum.reset();  // scoreGiven without scoreMaximum
  bad[2].score_given = -1;
  bad[3].score_maximum = 0;
  bad[4].timestamp = TimePoint{};
  bad[5].extensions_json = R"({"preserve_score":true})";  // not a URL key
  for (const auto& s : bad) {
    auto out = ags_.PostScore(Canvas(), kCanvasItem, s);
    EXPECT_EQ(out.status().reason(), "ags.invalid_score");
    EXPECT_EQ(out.status().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(AgsClientTest, MoodleScoresAndResultsUrlsKeepTheQueryAtTheEnd) {
  PushToken("m", std::string(kScopeScore) + " " + kScopeResultReadOnly);
  http_.Push(200, "");  // Moodle: 200 with an empty body
  auto out = ags_.PostScore(Moodle(), kMoodleItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kDelivered);
  EXPECT_EQ(http_.last().url, "https://moodle.school.edu/mod/lti/services.php/2/lineitems/3/lineitem/scores?type_id=1");

  http_.Push(200, "[]");  // the cached token also grants result.readonly
  auto results = ags_.GetResults(Moodle(), kMoodleItem, ResultFilter{"42", 1});
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE(results->ok()) << results->diagnosis;
  EXPECT_EQ(http_.last().url,
            "https://moodle.school.edu/mod/lti/services.php/2/lineitems/3/lineitem/results?type_id=1&user_id=42&limit=1");
  EXPECT_EQ(http_.last().headers.Get("Accept"), "application/vnd.ims.lis.v2.resultcontainer+json");
}

TEST_F(AgsClientTest, MoodleConflictOnAReplayIsAlreadyApplied) {
  PushToken("m", kScopeScore);
  http_.Push(409, "Refusing score with an earlier timestamp for item 3 and user 5");
  auto out = ags_.PostScore(Moodle(), kMoodleItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kAlreadyApplied);
  EXPECT_TRUE(out->ok());
  EXPECT_EQ(out->response.status, 409);
}

TEST_F(AgsClientTest, TokensAreCachedAcrossCalls) {
  PushToken("tok", kScopeScore);
  for (int i = 0; i < 5; ++i) {
    http_.Push(200, "{}");
    auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
    ASSERT_TRUE(out.ok() && out->ok()) << out->diagnosis;
  }
  EXPECT_EQ(tokens_.request_count(), 1);
  EXPECT_EQ(http_.count(), 6u);
}

TEST_F(AgsClientTest, A401RefreshesTheTokenAndRetriesOnce) {
  PushToken("A", kScopeScore);
  http_.Push(401, R"({"errors":{"type":"unauthorized","message":"Access token expired"}})");
  PushToken("B", kScopeScore);
  http_.Push(200, "{}");
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kDelivered) << out->diagnosis;
  auto all = http_.requests();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].headers.Get("Authorization"), "Bearer A");
  EXPECT_EQ(all[2].url, Canvas().token_url);
  EXPECT_EQ(all[3].headers.Get("Authorization"), "Bearer B");
  EXPECT_EQ(all[3].body, all[1].body);  // the same score, same timestamp
  EXPECT_EQ(tokens_.request_count(), 2);
}

TEST_F(AgsClientTest, A401IsRetriedOnlyOnce) {
  PushToken("A", kScopeScore);
  http_.Push(401, R"({"errors":{"type":"unauthorized","message":"Invalid Developer Key"}})");
  PushToken("B", kScopeScore);
  http_.Push(401, R"({"errors":{"type":"unauthorized","message":"Invalid Developer Key"}})");
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kPermanent);
  EXPECT_EQ(out->reason, "ags.unauthorized");
  EXPECT_NE(out->diagnosis.find("Invalid Developer Key"), std::string::npos);
  EXPECT_EQ(http_.count(), 4u);
  EXPECT_EQ(http_.pending(), 0u);

  // Moments later, another score meets a 401 again: no third token (Canvas charges for each);
  // the score is retryable, not failed.
  http_.Push(401, R"({"errors":{"type":"unauthorized","message":"Access token expired"}})");
  auto again = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->classification, Classification::kRetryable);
  EXPECT_EQ(again->reason, "ags.token_rejected");
  EXPECT_EQ(tokens_.request_count(), 2);
  EXPECT_EQ(http_.count(), 5u);
}

TEST_F(AgsClientTest, ExactMediaTypesAndScopesPerOperation) {
  const Registration reg = Canvas();
  // List: container media type, read-only scope.
  PushToken("ro", kScopeLineItemReadOnly);
  http_.Push(200, "[]");
  ASSERT_TRUE(ags_.ListLineItems(reg, kCanvasItems).ok());
  EXPECT_EQ(ScopeOf(http_.requests()[0]), kScopeLineItemReadOnly);
  EXPECT_EQ(http_.last().method, "GET");
  EXPECT_EQ(http_.last().headers.Get("Accept"), "application/vnd.ims.lis.v2.lineitemcontainer+json");

  // Get: line item media type, the cached read-only token.
  http_.Push(200, R"({"id":"https://school.instructure.com/api/lti/courses/1/line_items/7","scoreMaximum":10,"label":"Quiz"})");
  auto got = ags_.GetLineItem(reg, kCanvasItem);
  ASSERT_TRUE(got.ok() && got->ok()) << got->diagnosis;
  EXPECT_EQ(http_.last().headers.Get("Accept"), "application/vnd.ims.lis.v2.lineitem+json");
  EXPECT_EQ(tokens_.request_count(), 1);

  // Create: POST with Content-Type and Accept = line item, scope lineitem.
  PushToken("rw", kScopeLineItem);
  http_.Push(201, R"({"id":"https://school.instructure.com/api/lti/courses/1/line_items/8","scoreMaximum":20,"label":"Essay","resourceId":"essay-1","tag":"grade","resourceLinkId":"rl-1"})");
  LineItem item;
  item.score_maximum = 20;
  item.label = "Essay";
  item.resource_id = "essay-1";
  item.tag = "grade";
  item.resource_link_id = "rl-1";
  auto created = ags_.CreateLineItem(reg, kCanvasItems, item);
  ASSERT_TRUE(created.ok() && created->ok()) << created->diagnosis;
  EXPECT_EQ(ScopeOf(http_.requests()[http_.count() - 2]), kScopeLineItem);
  http::Request post = http_.last();
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.url, kCanvasItems);
  EXPECT_EQ(post.headers.Get("Content-Type"), "application/vnd.ims.lis.v2.lineitem+json");
  EXPECT_EQ(post.headers.Get("Accept"), "application/vnd.ims.lis.v2.lineitem+json");
  EXPECT_EQ(json::parse(post.body),
            json::parse(R"({"scoreMaximum":20.0,"label":"Essay","resourceId":"essay-1","tag":"grade","resourceLinkId":"rl-1"})"));
  EXPECT_EQ(created->value->id, "https://school.instructure.com/api/lti/courses/1/line_items/8");
  EXPECT_EQ(created->value->resource_link_id, "rl-1");

  // Update: PUT to the id, same media types.
  LineItem changed = *created->value;
  changed.label = "Essay (final)";
  http_.Push(200, "");
  auto updated = ags_.UpdateLineItem(reg, changed);
  ASSERT_TRUE(updated.ok() && updated->ok());
  EXPECT_EQ(http_.last().method, "PUT");
  EXPECT_EQ(http_.last().url, changed.id);
  EXPECT_EQ(http_.last().headers.Get("Content-Type"), "application/vnd.ims.lis.v2.lineitem+json");
  EXPECT_EQ(json::parse(http_.last().body)["id"], changed.id);
  EXPECT_EQ(updated->value->label, "Essay (final)");

  // Delete.
  http_.Push(204, "");
  auto deleted = ags_.DeleteLineItem(reg, changed.id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->classification, Classification::kDelivered);
  EXPECT_EQ(http_.last().method, "DELETE");
  EXPECT_EQ(tokens_.request_count(), 2);

  // Results: result container, result.readonly.
  PushToken("res", kScopeResultReadOnly);
  http_.Push(200, "[]");
  ASSERT_TRUE(ags_.GetResults(reg, kCanvasItem).ok());
  EXPECT_EQ(ScopeOf(http_.requests()[http_.count() - 2]), kScopeResultReadOnly);
  EXPECT_EQ(http_.last().url, std::string(kCanvasItem) + "/results");
  EXPECT_EQ(http_.last().headers.Get("Accept"), "application/vnd.ims.lis.v2.resultcontainer+json");
}

TEST_F(AgsClientTest, ReadsFallBackToTheLineItemScope) {
  // The developer key has `lineitem` but not `lineitem.readonly`: Canvas refuses the whole request.
  http_.Push(400, R"({"error":"invalid_scope","error_description":"A requested scope is invalid"})");
  PushToken("rw", kScopeLineItem);
  http_.Push(200, R"([{"id":"https://school.instructure.com/api/lti/courses/1/line_items/7","scoreMaximum":10,"label":"Quiz"}])");
  auto list = ags_.ListLineItems(Canvas(), kCanvasItems);
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(list->ok()) << list->diagnosis;
  EXPECT_EQ(list->value->size(), 1u);
  EXPECT_EQ(http_.last().headers.Get("Authorization"), "Bearer rw");
  // Afterwards the lineitem token serves reads without any token request.
  http_.Push(200, "[]");
  ASSERT_TRUE(ags_.ListLineItems(Canvas(), kCanvasItems)->ok());
  EXPECT_EQ(tokens_.request_count(), 2);
}

TEST_F(AgsClientTest, FollowsCanvasLinkPagingVerbatim) {
  const std::string p1 = std::string(kCanvasItems) + "?page=1&per_page=2";
  const std::string p2 = std::string(kCanvasItems) + "?page=2&per_page=2";
  PushToken("ro", kScopeLineItemReadOnly);
  // Canvas: comma-separated without spaces, order current, next, prev, first, last.
  http_.Push(200,
             R"([{"id":"https://school.instructure.com/api/lti/courses/1/line_items/1","scoreMaximum":1,"label":"A"},)"
             R"({"id":"https://school.instructure.com/api/lti/courses/1/line_items/2","scoreMaximum":2,"label":"B"}])",
             {{"Link", "<" + p1 + ">; rel=\"current\",<" + p2 + ">; rel=\"next\",<" + p1 + ">; rel=\"first\",<" + p2 +
                           ">; rel=\"last\""}});
  http_.Push(200, R"([{"id":"https://school.instructure.com/api/lti/courses/1/line_items/3","scoreMaximum":3,"label":"C"}])",
             {{"Link", "<" + p2 + ">; rel=\"current\",<" + p1 + ">; rel=\"prev\",<" + p1 + ">; rel=\"first\",<" + p2 +
                           ">; rel=\"last\""}});
  auto list = ags_.ListLineItems(Canvas(), kCanvasItems, LineItemFilter{"", "", "", 2});
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(list->ok()) << list->diagnosis;
  ASSERT_EQ(list->value->size(), 3u);
  EXPECT_EQ((*list->value)[2].label, "C");
  EXPECT_EQ(list->pages, 2);
  auto service = ServiceRequests();
  ASSERT_EQ(service.size(), 2u);
  EXPECT_EQ(service[0].url, std::string(kCanvasItems) + "?limit=2");
  EXPECT_EQ(service[1].url, p2);
  EXPECT_EQ(service[1].headers.Get("Accept"), "application/vnd.ims.lis.v2.lineitemcontainer+json");
}

TEST_F(AgsClientTest, FollowsMoodleCurlyQuoteLinks) {
  const std::string next = std::string(kMoodleItems) + "&limit=1&from=1";
  PushToken("ro", kScopeLineItemReadOnly);
  http_.Push(200, R"([{"id":"https://moodle.school.edu/mod/lti/services.php/2/lineitems/3/lineitem?type_id=1","scoreMaximum":"100.00000","label":"Quiz","resourceId":"","tag":"","ltiLinkId":"4"}])",
             {{"Link", "<" + std::string(kMoodleItems) + "&limit=1&from=0>; rel=\u201cfirst\u201d, <" + next +
                           ">; rel=\u201cnext\u201d"}});
  http_.Push(200, "[]");
  auto list = ags_.ListLineItems(Moodle(), kMoodleItems, LineItemFilter{"", "", "", 1});
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(list->ok()) << list->diagnosis;
  ASSERT_EQ(list->value->size(), 1u);
  const LineItem& item = (*list->value)[0];
  EXPECT_EQ(item.score_maximum, 100);  // numeric string tolerated
  EXPECT_EQ(item.resource_id, "");
  EXPECT_NE(item.extra_json.find("ltiLinkId"), std::string::npos);
  auto service = ServiceRequests();
  ASSERT_EQ(service.size(), 2u);
  EXPECT_EQ(service[0].url, std::string(kMoodleItems) + "&limit=1");
  EXPECT_EQ(service[1].url, next);
}

TEST_F(AgsClientTest, FiltersGoIntoTheQueryEncoded) {
  PushToken("ro", kScopeLineItemReadOnly);
  http_.Push(200, "[]");
  LineItemFilter f;
  f.resource_link_id = "rl-1";
  f.resource_id = "quiz 1&2";
  f.tag = "grade";
  f.limit = 50;
  ASSERT_TRUE(ags_.ListLineItems(Canvas(), kCanvasItems, f)->ok());
  EXPECT_EQ(http_.last().url,
            std::string(kCanvasItems) + "?resource_link_id=rl-1&resource_id=quiz%201%262&tag=grade&limit=50");
  http_.Push(200, "[]");
  ASSERT_TRUE(ags_.ListLineItems(Moodle(), kMoodleItems, LineItemFilter{"", "", "grade", std::nullopt}).ok());
}

TEST_F(AgsClientTest, RefusesHostsOutsideTheRegistrationAndSendsNothing) {
  auto out = ags_.PostScore(Canvas(), "https://evil.example.com/api/lti/courses/1/line_items/7", FinalScore());
  EXPECT_EQ(out.status().reason(), "service.host_not_allowed");
  EXPECT_EQ(out.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ags_.ListLineItems(Canvas(), "https://evil.example.com/items").status().reason(), "service.host_not_allowed");
  EXPECT_EQ(ags_.GetResults(Canvas(), "https://evil.example.com/items/1").status().reason(), "service.host_not_allowed");
  EXPECT_EQ(ags_.GetLineItem(Canvas(), "not a url").status().reason(), "ags.invalid_url");
  EXPECT_EQ(http_.count(), 0u);  // not even a token request

  // A next link to another host is not followed: the bearer token never leaves.
  PushToken("ro", kScopeLineItemReadOnly);
  http_.Push(200, "[]", {{"Link", "<https://evil.example.com/steal?page=2>; rel=\"next\""}});
  auto list = ags_.ListLineItems(Canvas(), kCanvasItems);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->classification, Classification::kPermanent);
  EXPECT_EQ(list->reason, "service.host_not_allowed");
  EXPECT_FALSE(list->value.has_value());
  for (const auto& r : http_.requests()) EXPECT_EQ(r.url.find("evil"), std::string::npos);
}

// Canvas Cloud: issuer, auth, token and JWKS on Instructure's shared hosts, AGS on the
// institution's host, which only service_hosts can allow.
TEST_F(AgsClientTest, CanvasCloudAgsHostIsAllowedOnlyAsAServiceHost) {
  Registration cloud = Canvas();
  cloud.token_url = "https://sso.canvaslms.com/login/oauth2/token";
  EXPECT_EQ(ags_.PostScore(cloud, kCanvasItem, FinalScore()).status().reason(), "service.host_not_allowed");
  EXPECT_EQ(http_.count(), 0u);

  cloud.service_hosts = {"school.instructure.com"};
  PushToken("tok-cloud", kScopeScore);
  http_.Push(200, "{}", {{"Content-Type", "application/vnd.ims.lis.v1.score+json"}});
  auto out = ags_.PostScore(cloud, kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->classification, Classification::kDelivered);
  auto all = http_.requests();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].url, cloud.token_url);
  EXPECT_EQ(all[1].url, std::string(kCanvasItem) + "/scores");

  // A service host with a port allows that port only.
  cloud.service_hosts = {"school.instructure.com:8443"};
  auto refused = ags_.PostScore(cloud, kCanvasItem, FinalScore());
  EXPECT_EQ(refused.status().reason(), "service.host_not_allowed");
  EXPECT_NE(refused.status().message().find("school.instructure.com:8443"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(http_.count(), 2u);
}

TEST_F(AgsClientTest, PagingIsBoundedAndLoopsAreDetected) {
  AgsClientOptions options;
  options.max_pages = 5;
  AgsClient bounded(http_, tokens_, options);
  PushToken("ro", kScopeLineItemReadOnly);
  int page = 0;
  http_.SetHandler([&](const http::Request&) -> Result<http::Response> {
    http::Response r = http::Response::Json(200, "[]");
    r.headers.Add("Link", "<" + std::string(kCanvasItems) + "?page=" + std::to_string(++page + 1) + ">; rel=\"next\"");
    return r;
  });
  auto list = bounded.ListLineItems(Canvas(), kCanvasItems);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->reason, "ags.too_many_pages");
  EXPECT_FALSE(list->value.has_value());
  EXPECT_EQ(ServiceRequests().size(), 5u);

  http_.SetHandler([&](const http::Request& req) -> Result<http::Response> {
    http::Response r = http::Response::Json(200, "[]");
    r.headers.Add("Link", "<" + req.url + ">; rel=\"next\"");
    return r;
  });
  auto loop = bounded.ListLineItems(Canvas(), kCanvasItems);
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ(loop->reason, "ags.paging_loop");
}

TEST_F(AgsClientTest, TransportErrorsAreRetryable) {
  PushToken("t", kScopeScore);
  http_.PushTransportError("http.transport");
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kRetryable);
  EXPECT_EQ(out->reason, "http.transport");
  EXPECT_EQ(out->response.status, 0);
  http_.Push(Result<http::Response>(Error(Code::kDeadlineExceeded, "http.timeout", "timed out after 30000 ms")));
  out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  EXPECT_EQ(out->classification, Classification::kRetryable);
  EXPECT_EQ(out->reason, "http.timeout");
}

TEST_F(AgsClientTest, ThrottlingIsReportedWithRateLimitHeaders) {
  PushToken("t", kScopeScore);
  http_.Push(403, "403 Forbidden (Rate Limit Exceeded)\n", {{"X-Rate-Limit-Remaining", "0.0"}});
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kRateLimited);
  EXPECT_TRUE(out->response.rate_limited);
  EXPECT_EQ(out->response.rate_limit_remaining, 0.0);
  http_.Push(429, "", {{"Retry-After", "20"}});
  out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  EXPECT_EQ(out->classification, Classification::kRateLimited);
  EXPECT_EQ(out->response.retry_after_seconds, 20);
}

TEST_F(AgsClientTest, TokenFailuresBecomeOutcomesWithoutCallingTheService) {
  // Permanent: bad client credentials.
  http_.Push(400, R"({"error":"invalid_client"})");
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->classification, Classification::kPermanent);
  EXPECT_EQ(out->reason, "token.invalid_client");
  EXPECT_EQ(out->response.url, Canvas().token_url);
  EXPECT_EQ(ServiceRequests().size(), 0u);

  // Transient, with Retry-After.
  Registration m = Moodle();
  http_.Push(503, "", {{"Retry-After", "30"}});
  out = ags_.PostScore(m, kMoodleItem, FinalScore());
  EXPECT_EQ(out->classification, Classification::kRetryable);
  EXPECT_EQ(out->reason, "token.unavailable");
  EXPECT_EQ(out->response.retry_after_seconds, 30);

  // Throttled token endpoint.
  m.id = RegistrationId("reg-moodle-2");
  http_.Push(429, "");
  out = ags_.PostScore(m, kMoodleItem, FinalScore());
  EXPECT_EQ(out->classification, Classification::kRateLimited);

  // The platform granted another scope: "service not granted", no score request.
  m.id = RegistrationId("reg-moodle-3");
  PushToken("ro", kScopeLineItemReadOnly);
  out = ags_.PostScore(m, kMoodleItem, FinalScore());
  EXPECT_EQ(out->classification, Classification::kPermanent);
  EXPECT_EQ(out->reason, "service.not_granted");
  EXPECT_EQ(out->diagnosis.rfind("service not granted: score", 0), 0u) << out->diagnosis;
  EXPECT_EQ(ServiceRequests().size(), 0u);
}

TEST_F(AgsClientTest, LineItemsAndResultsAreParsedTolerantly) {
  PushToken("ro", kScopeLineItemReadOnly);
  http_.Push(200, R"({"id":"https://school.instructure.com/api/lti/courses/1/line_items/7","scoreMaximum":10,)"
                  R"("label":"Quiz","resourceId":null,"tag":"grade","resourceLinkId":"rl-1",)"
                  R"("startDateTime":"2026-01-10T08:00:00Z","endDateTime":"2026-01-20T23:59:59.000+01:00",)"
                  R"("https://canvas.instructure.com/lti/submission_type":{"type":"external_tool","external_tool_url":"https://tool/x"}})");
  auto got = ags_.GetLineItem(Canvas(), kCanvasItem);
  ASSERT_TRUE(got.ok() && got->ok()) << got->diagnosis;
  const LineItem& li = *got->value;
  EXPECT_EQ(li.score_maximum, 10);
  EXPECT_EQ(li.resource_id, "");
  EXPECT_EQ(li.tag, "grade");
  ASSERT_TRUE(li.start_date_time && li.end_date_time);
  EXPECT_EQ(*li.start_date_time, TimePoint(std::chrono::seconds(1768032000)));
  EXPECT_EQ(*li.end_date_time, TimePoint(std::chrono::seconds(1768949999)));
  // Unmodelled members survive a PUT.
  PushToken("rw", kScopeLineItem);
  http_.Push(200, "");
  ASSERT_TRUE(ags_.UpdateLineItem(Canvas(), li)->ok());
  json put = json::parse(http_.last().body);
  EXPECT_EQ(put["https://canvas.instructure.com/lti/submission_type"]["type"], "external_tool");
  EXPECT_EQ(put["startDateTime"], "2026-01-10T08:00:00.000Z");

  PushToken("res", kScopeResultReadOnly);
  http_.Push(200, R"([{"id":"https://x/results/1","scoreOf":"https://x","userId":42,"resultScore":null,"comment":"ok"},)"
                  R"({"id":"https://x/results/2","userId":"u2","resultScore":"7.5","resultMaximum":10},)"
                  R"("garbage"])");
  auto results = ags_.GetResults(Canvas(), kCanvasItem, ResultFilter{"42", std::nullopt});
  ASSERT_TRUE(results.ok() && results->ok()) << results->diagnosis;
  EXPECT_EQ(http_.last().url, std::string(kCanvasItem) + "/results?user_id=42");
  ASSERT_EQ(results->value->size(), 2u);
  const AgsResult& r0 = (*results->value)[0];
  EXPECT_EQ(r0.user_id, "42");
  EXPECT_FALSE(r0.result_score.has_value());
  EXPECT_EQ(r0.result_maximum, 1);  // AGS default
  EXPECT_EQ(r0.comment, "ok");
  EXPECT_EQ((*results->value)[1].result_score, 7.5);
  EXPECT_EQ((*results->value)[1].result_maximum, 10);
}

TEST_F(AgsClientTest, BadBodiesAndBadLineItemsAreReported) {
  PushToken("ro", kScopeLineItemReadOnly);
  http_.Push(200, "<html>login</html>");
  auto list = ags_.ListLineItems(Canvas(), kCanvasItems);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->reason, "ags.invalid_response");
  EXPECT_FALSE(list->ok());

  LineItem blank;
  blank.score_maximum = 10;
  EXPECT_EQ(ags_.CreateLineItem(Canvas(), kCanvasItems, blank).status().reason(), "ags.invalid_line_item");
  LineItem zero;
  zero.label = "x";
  EXPECT_EQ(ags_.CreateLineItem(Canvas(), kCanvasItems, zero).status().reason(), "ags.invalid_line_item");
  LineItem no_id;
  no_id.label = "x";
  no_id.score_maximum = 1;
  EXPECT_EQ(ags_.UpdateLineItem(Canvas(), no_id).status().reason(), "ags.invalid_line_item");

  PushToken("rw", kScopeLineItem);
  http_.Push(201, R"({"label":"x","scoreMaximum":1})");  // created, but no id
  auto created = ags_.CreateLineItem(Canvas(), kCanvasItems, no_id);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->reason, "ags.invalid_response");
  EXPECT_FALSE(created->value.has_value());
}

TEST_F(AgsClientTest, NotFoundAndUserProblemsArePermanentWithDiagnoses) {
  PushToken("t", kScopeScore);
  http_.Push(404, R"({"errors":{"type":"not_found","message":"The specified resource does not exist."}})");
  auto out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  EXPECT_EQ(out->classification, Classification::kPermanent);
  EXPECT_NE(out->diagnosis.find("line item no longer exists"), std::string::npos);
  http_.Push(422, R"({"errors":{"type":"unprocessable_entity","message":"User not found in course or is not a student"}})");
  out = ags_.PostScore(Canvas(), kCanvasItem, FinalScore());
  EXPECT_EQ(out->reason, "ags.user_not_in_course");
  EXPECT_EQ(tokens_.request_count(), 1);
}

}  // namespace
}  // namespace gb::lti
