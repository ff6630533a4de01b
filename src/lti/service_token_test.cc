#include "lti/service_token.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "jose/jose.h"
#include "lti/claims.h"
#include "lti/test_fakes.h"
#include "lti/test_http.h"

namespace gb::lti {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string TokenJson(const std::string& token, int expires_in, const std::string& scope) {
  json j = {{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", expires_in}};
  if (!scope.empty()) j["scope"] = scope;
  return j.dump();
}

FormFields FormOf(const http::Request& r) { return ParseForm(r.body).value_or(FormFields{}); }

class ServiceTokenTest : public ::testing::Test {
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

  static Registration Canvas() {
    Registration r;
    r.id = RegistrationId("reg-canvas");
    r.issuer = "https://canvas.instructure.com";
    r.client_id = "10000000000001";
    r.deployment_ids = {"dep-1", "dep-2"};
    r.auth_url = "https://sso.canvaslms.com/api/lti/authorize_redirect";
    r.token_url = "https://sso.canvaslms.com/login/oauth2/token";
    r.jwks_url = "https://sso.canvaslms.com/api/lti/security/jwks";
    r.family = PlatformFamily::kCanvas;
    return r;
  }
  static Registration Brightspace() {
    Registration r;
    r.id = RegistrationId("reg-d2l");
    r.issuer = "https://school.brightspace.com";
    r.client_id = "6e4c2f9a-0c53-4bd1-9f54-5b1d2a7c3e10";
    r.deployment_ids = {"a1b2c3d4-0000-1111-2222-333344445555"};
    r.auth_url = "https://school.brightspace.com/d2l/lti/authenticate";
    r.token_url = "https://auth.brightspace.com/core/connect/token";
    r.jwks_url = "https://school.brightspace.com/d2l/.well-known/jwks";
    r.family = PlatformFamily::kBrightspace;
    return r;
  }

  // Decodes and verifies the client assertion of a recorded token request.
  jose::CompactJws Assertion(const http::Request& r) {
    auto assertion = FormValue(FormOf(r), "client_assertion");
    EXPECT_TRUE(assertion.has_value());
    auto jws = jose::ParseCompact(assertion.value_or(""));
    EXPECT_TRUE(jws.ok()) << jws.status().ToString();
    EXPECT_TRUE(jose::VerifyRs256(*jws, ring_->Active()->key.PublicKey()).ok());
    return *jws;
  }

  static testing::MemoryKeys* key_store_;
  static FakeClock* key_clock_;
  static KeyRing* ring_;
  FakeClock clock_;
  testing::ScriptedHttpClient http_;
  ServiceTokenClient client_{http_, *ring_, clock_, SecureRandom::Instance()};
};
testing::MemoryKeys* ServiceTokenTest::key_store_ = nullptr;
FakeClock* ServiceTokenTest::key_clock_ = nullptr;
KeyRing* ServiceTokenTest::ring_ = nullptr;

TEST_F(ServiceTokenTest, RequestAndAssertionAreExactlyRight) {
  http_.Push(200, TokenJson("tok-1", 3600, kScopeScore));
  auto token = client_.Get(Canvas(), {kScopeScore});
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->token, "tok-1");
  EXPECT_EQ(token->scopes, std::vector<std::string>{kScopeScore});
  EXPECT_EQ(token->obtained_at, clock_.Now());
  EXPECT_EQ(token->expires_at, clock_.Now() + seconds(3600 - 60));

  ASSERT_EQ(http_.count(), 1u);
  http::Request req = http_.last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://sso.canvaslms.com/login/oauth2/token");
  EXPECT_EQ(req.headers.Get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.headers.Get("Accept"), "application/json");
  EXPECT_FALSE(req.headers.Has("Authorization"));
  FormFields form = FormOf(req);
  EXPECT_EQ(form.size(), 4u);
  EXPECT_EQ(FormValue(form, "grant_type"), "client_credentials");
  EXPECT_EQ(FormValue(form, "client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  EXPECT_EQ(FormValue(form, "scope"), kScopeScore);

  jose::CompactJws jws = Assertion(req);
  const json& h = *jws.header;
  EXPECT_EQ(h.size(), 3u) << h.dump();
  EXPECT_EQ(h["alg"], "RS256");
  EXPECT_EQ(h["typ"], "JWT");
  EXPECT_EQ(h["kid"], ring_->Active()->kid);
  const json& p = *jws.payload;
  EXPECT_EQ(p.size(), 7u) << p.dump();
  EXPECT_EQ(p["iss"], "10000000000001");
  EXPECT_EQ(p["sub"], "10000000000001");
  ASSERT_TRUE(p["aud"].is_string());
  EXPECT_EQ(p["aud"], "https://sso.canvaslms.com/login/oauth2/token");
  ASSERT_TRUE(p["iat"].is_number_integer());
  EXPECT_EQ(p["iat"].get<int64_t>(), clock_.NowSeconds());
  EXPECT_EQ(p["exp"].get<int64_t>(), clock_.NowSeconds() + 300);
  ASSERT_TRUE(p["jti"].is_string());
  auto jti_bytes = Base64UrlDecode(p["jti"].get<std::string>());
  ASSERT_TRUE(jti_bytes.has_value());
  EXPECT_GE(jti_bytes->size(), 16u);  // ≥ 128 bits
  EXPECT_EQ(p[kClaimDeploymentId], "dep-1");
}

TEST_F(ServiceTokenTest, JtiIsFreshForEveryRequest) {
  std::set<std::string> jtis;
  for (int i = 0; i < 3; ++i) {
    http_.Push(200, TokenJson("tok", 3600, ""));
    client_.Invalidate(Canvas(), {kScopeScore});
    ASSERT_TRUE(client_.Get(Canvas(), {kScopeScore}).ok());
    jtis.insert((*Assertion(http_.last()).payload)["jti"].get<std::string>());
  }
  EXPECT_EQ(jtis.size(), 3u);
}

TEST_F(ServiceTokenTest, BrightspaceAudienceIsTheFixedStringAndOverridesWin) {
  http_.Push(200, TokenJson("tok-d2l", 3600, ""));
  ASSERT_TRUE(client_.Get(Brightspace(), {kScopeScore}).ok());
  EXPECT_EQ(http_.last().url, "https://auth.brightspace.com/core/connect/token");
  json p = *Assertion(http_.last()).payload;
  ASSERT_TRUE(p["aud"].is_string()) << "Brightspace rejects an array audience";
  EXPECT_EQ(p["aud"], "https://api.brightspace.com/auth/token");
  EXPECT_EQ(p[kClaimDeploymentId], "a1b2c3d4-0000-1111-2222-333344445555");

  Registration custom = Canvas();
  custom.token_audience = "https://canvas.instructure.com/login/oauth2/token";
  custom.deployment_ids.clear();
  http_.Push(200, TokenJson("tok-c", 3600, ""));
  ASSERT_TRUE(client_.Get(custom, {kScopeScore}).ok());
  p = *Assertion(http_.last()).payload;
  EXPECT_EQ(p["aud"], "https://canvas.instructure.com/login/oauth2/token");
  EXPECT_FALSE(p.contains(kClaimDeploymentId));
}

TEST_F(ServiceTokenTest, CachesPerRegistrationAndSortedScopeSetUntilExpiryMinusMargin) {
  http_.Push(200, TokenJson("both", 3600, std::string(kScopeScore) + " " + kScopeLineItem));
  auto a = client_.Get(Canvas(), {kScopeScore, kScopeLineItem});
  ASSERT_TRUE(a.ok());
  // Same set in another order, duplicates, and subsets: all served from the cache.
  EXPECT_EQ(client_.Get(Canvas(), {kScopeLineItem, kScopeScore, kScopeScore})->token, "both");
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "both");
  EXPECT_EQ(client_.Get(Canvas(), {kScopeLineItem})->token, "both");
  EXPECT_EQ(client_.request_count(), 1);
  EXPECT_EQ(http_.count(), 1u);

  // Another scope set that the cached token does not cover: its own request.
  http_.Push(200, TokenJson("results", 3600, kScopeResultReadOnly));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeResultReadOnly})->token, "results");
  // Another registration: its own token.
  Registration other = Canvas();
  other.id = RegistrationId("reg-canvas-2");
  http_.Push(200, TokenJson("other", 3600, kScopeScore));
  EXPECT_EQ(client_.Get(other, {kScopeScore})->token, "other");
  EXPECT_EQ(client_.request_count(), 3);

  clock_.Advance(seconds(3539));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "both");
  EXPECT_EQ(client_.request_count(), 3);
  clock_.Advance(seconds(2));
  http_.Push(200, TokenJson("renewed", 3600, std::string(kScopeScore)));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "renewed");
  EXPECT_EQ(client_.request_count(), 4);
}

TEST_F(ServiceTokenTest, MarginNeverExceedsHalfTheLifetime) {
  http_.Push(200, TokenJson("short", 30, ""));
  auto t = client_.Get(Canvas(), {kScopeScore});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->expires_at, clock_.Now() + seconds(15));
  clock_.Advance(seconds(14));
  EXPECT_TRUE(client_.Get(Canvas(), {kScopeScore}).ok());
  EXPECT_EQ(client_.request_count(), 1);
  clock_.Advance(seconds(2));
  http_.Push(200, TokenJson("zero", 0, ""));
  auto z = client_.Get(Canvas(), {kScopeScore});
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->token, "zero");  // usable for this call, never cached
  EXPECT_EQ(z->expires_at, clock_.Now());
  http_.Push(200, TokenJson("again", 3600, ""));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "again");
  EXPECT_EQ(client_.request_count(), 3);
}

TEST_F(ServiceTokenTest, ExpiresInAndScopeAreReadTolerantly) {
  // expires_in absent → default 3600; scope absent → as requested (RFC 6749 §5.1).
  http_.Push(200, R"({"access_token":"t1","token_type":"bearer"})");
  auto t = client_.Get(Canvas(), {kScopeScore, kScopeLineItem});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->expires_at, clock_.Now() + seconds(3540));
  EXPECT_EQ(t->scopes, (std::vector<std::string>{kScopeLineItem, kScopeScore}));
  // expires_in as a numeric string.
  http_.Push(200, R"({"access_token":"t2","token_type":"Bearer","expires_in":"600"})");
  auto t2 = client_.Get(Brightspace(), {kScopeScore});
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->expires_at, clock_.Now() + seconds(540));
}

TEST_F(ServiceTokenTest, SingleFlightConcurrentCallersShareOneRequest) {
  http_.SetDelay(std::chrono::milliseconds(100));
  std::atomic<int> served{0};
  http_.SetHandler([&](const http::Request&) -> Result<http::Response> {
    ++served;
    return http::Response::Json(200, TokenJson("tok-" + std::to_string(served.load()), 3600, ""));
  });
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto t = client_.Get(Canvas(), {kScopeScore});
      got[i] = t.ok() ? t->token : t.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(http_.count(), 1u);
  EXPECT_EQ(client_.request_count(), 1);
  for (const auto& g : got) EXPECT_EQ(g, "tok-1");
}

TEST_F(ServiceTokenTest, SingleFlightWaitersShareAFailureToo) {
  http_.SetDelay(std::chrono::milliseconds(100));
  http_.SetHandler([](const http::Request&) -> Result<http::Response> {
    return http::Response::Json(503, "");
  });
  std::vector<std::thread> threads;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (client_.Get(Canvas(), {kScopeScore}).status().reason() == "token.unavailable") ++unavailable;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unavailable, 4);
  EXPECT_EQ(http_.count(), 1u);
}

TEST_F(ServiceTokenTest, NarrowerGrantIsReportedAndNotRequestedAgainAtOnce) {
  http_.Push(200, TokenJson("narrow", 3600, kScopeScore));
  auto t = client_.Get(Canvas(), {kScopeLineItem, kScopeScore});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().reason(), "service.not_granted");
  EXPECT_EQ(t.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(t.status().message().rfind("service not granted: lineitem", 0), 0u) << t.status().message();
  EXPECT_NE(t.status().message().find(kScopeLineItem), std::string::npos);
  EXPECT_EQ(t.status().message().find("narrow"), std::string::npos);  // never the token

  // Asking again: same answer from memory. What was granted is usable.
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore, kScopeLineItem}).status().reason(), "service.not_granted");
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "narrow");
  EXPECT_EQ(client_.request_count(), 1);

  // Rechecked after not_granted_recheck (the admin may have fixed the developer key).
  clock_.Advance(seconds(301));
  http_.Push(200, TokenJson("wide", 3600, std::string(kScopeScore) + " " + kScopeLineItem));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeLineItem, kScopeScore})->token, "wide");
  EXPECT_EQ(client_.request_count(), 2);
}

struct ErrorCase {
  int status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string reason;
  Code code;
};

TEST_F(ServiceTokenTest, MapsTokenEndpointErrors) {
  const std::vector<ErrorCase> cases = {
      {400, R"({"error":"invalid_client"})", {}, "token.invalid_client", Code::kPermissionDenied},
      {401, R"({"error":"invalid_client","error_description":"unknown client"})",
       {{"WWW-Authenticate", "Canvas OAuth 2.0"}}, "token.invalid_client", Code::kPermissionDenied},
      {401, "", {}, "token.invalid_client", Code::kPermissionDenied},
      {400, R"({"error":"invalid_grant"})", {}, "token.invalid_grant", Code::kPermissionDenied},
      {400, R"({"error":"unauthorized_client"})", {}, "token.unauthorized_client", Code::kPermissionDenied},
      {400, R"({"error":"invalid_scope","error_description":"requested, but not granted: score"})", {},
       "token.invalid_scope", Code::kPermissionDenied},
      {400, R"({"error":"invalid_request","error_description":"the 'aud' is invalid"})", {},
       "token.invalid_request", Code::kFailedPrecondition},
      {400, R"({"error":"unsupported_grant_type"})", {}, "token.unsupported_grant_type", Code::kFailedPrecondition},
      {404, "<html><title>Page not found</title></html>", {}, "token.rejected", Code::kFailedPrecondition},
      {500, "oops", {}, "token.unavailable", Code::kUnavailable},
      {502, "", {}, "token.unavailable", Code::kUnavailable},
      {429, "slow down", {}, "token.unavailable", Code::kUnavailable},
      {403, "403 Forbidden (Rate Limit Exceeded)\n", {{"X-Rate-Limit-Remaining", "0.0"}}, "token.unavailable",
       Code::kUnavailable},
      {200, "not json", {}, "token.invalid_response", Code::kFailedPrecondition},
      {200, R"({"token_type":"Bearer"})", {}, "token.invalid_response", Code::kFailedPrecondition},
      {200, R"({"access_token":"SECRET-TOKEN","token_type":"mac"})", {}, "token.invalid_response",
       Code::kFailedPrecondition},
  };
  int n = 0;
  for (const auto& c : cases) {
    Registration reg = Canvas();
    reg.id = RegistrationId("reg-" + std::to_string(n++));  // no remembered failure between cases
    http_.Push(c.status, c.body, c.headers);
    ServiceResponse failure;
    auto t = client_.Get(reg, {kScopeScore}, &failure);
    ASSERT_FALSE(t.ok()) << c.status << " " << c.body;
    EXPECT_EQ(t.status().reason(), c.reason) << c.status << " " << c.body << ": " << t.status().ToString();
    EXPECT_EQ(t.status().code(), c.code) << c.body;
    EXPECT_EQ(failure.status, c.status);
    EXPECT_EQ(failure.url, reg.token_url);
    EXPECT_EQ(t.status().message().find("SECRET-TOKEN"), std::string::npos);
    EXPECT_EQ(failure.body.find("SECRET-TOKEN"), std::string::npos);
    if (c.status == 403 || c.status == 429) {
      EXPECT_TRUE(failure.rate_limited);
    }
  }
  // The platform's own description reaches the message (it helps the admin).
  http_.Push(400, R"({"error":"invalid_request","error_description":"the 'iat' must be less than 300 seconds old"})");
  Registration reg = Canvas();
  reg.id = RegistrationId("reg-desc");
  auto t = client_.Get(reg, {kScopeScore});
  EXPECT_NE(t.status().message().find("the 'iat' must be less than 300 seconds old"), std::string::npos);
  EXPECT_NE(t.status().message().find("HTTP 400"), std::string::npos);
}

TEST_F(ServiceTokenTest, TransportErrorIsUnavailableWithNoStatus) {
  http_.PushTransportError("http.timeout");
  ServiceResponse failure;
  auto t = client_.Get(Canvas(), {kScopeScore}, &failure);
  EXPECT_EQ(t.status().reason(), "token.unavailable");
  EXPECT_EQ(t.status().code(), Code::kUnavailable);
  EXPECT_EQ(failure.status, 0);
  EXPECT_EQ(failure.url, Canvas().token_url);
  // Not remembered: the next call tries again.
  http_.Push(200, TokenJson("t", 3600, ""));
  EXPECT_TRUE(client_.Get(Canvas(), {kScopeScore}).ok());
  EXPECT_EQ(client_.request_count(), 2);
}

TEST_F(ServiceTokenTest, RetryAfterIsExposedAndHonoured) {
  http_.Push(503, "", {{"Retry-After", "30"}});
  ServiceResponse failure;
  auto t = client_.Get(Canvas(), {kScopeScore}, &failure);
  EXPECT_EQ(t.status().reason(), "token.unavailable");
  EXPECT_EQ(failure.retry_after_seconds, 30);
  EXPECT_NE(t.status().message().find("Retry after 30 s"), std::string::npos);
  // Within the Retry-After window the endpoint is not asked again; the remaining wait is reported.
  clock_.Advance(seconds(10));
  ServiceResponse again;
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore}, &again).status().reason(), "token.unavailable");
  EXPECT_EQ(again.retry_after_seconds, 20);
  EXPECT_EQ(client_.request_count(), 1);
  clock_.Advance(seconds(21));
  http_.Push(200, TokenJson("back", 3600, ""));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "back");
  EXPECT_EQ(client_.request_count(), 2);
}

TEST_F(ServiceTokenTest, PermanentFailuresAreRememberedBriefly) {
  http_.Push(400, R"({"error":"invalid_client"})");
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore}).status().reason(), "token.invalid_client");
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore}).status().reason(), "token.invalid_client");
  EXPECT_EQ(client_.request_count(), 1);
  clock_.Advance(seconds(121));
  http_.Push(400, R"({"error":"invalid_client"})");
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore}).status().reason(), "token.invalid_client");
  EXPECT_EQ(client_.request_count(), 2);
  // Invalidate forgets the failure at once (an admin fixed the key).
  client_.Invalidate(Canvas(), {kScopeScore});
  http_.Push(200, TokenJson("fixed", 3600, ""));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "fixed");
}

TEST_F(ServiceTokenTest, AssertionAndTokenNeverAppearInMessages) {
  // A platform that echoes the assertion back in its error description.
  http_.SetHandler([](const http::Request& r) -> Result<http::Response> {
    std::string assertion = FormValue(ParseForm(r.body).value_or(FormFields{}), "client_assertion").value_or("");
    return http::Response::Json(400, json{{"error", "invalid_request"}, {"error_description", "bad: " + assertion}}.dump());
  });
  ServiceResponse failure;
  auto t = client_.Get(Canvas(), {kScopeScore}, &failure);
  ASSERT_FALSE(t.ok());
  std::string assertion = FormValue(FormOf(http_.last()), "client_assertion").value_or("");
  ASSERT_FALSE(assertion.empty());
  EXPECT_EQ(t.status().message().find(assertion.substr(0, 40)), std::string::npos);
  EXPECT_EQ(failure.body.find(assertion), std::string::npos);
  EXPECT_NE(failure.body.find("[redacted]"), std::string::npos);
}

TEST_F(ServiceTokenTest, InvalidateRejectedRefreshesOncePerIntervalAndOnlyTheRejectedToken) {
  http_.Push(200, TokenJson("A", 3600, ""));
  ASSERT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "A");
  EXPECT_TRUE(client_.InvalidateRejected(Canvas(), "A"));
  http_.Push(200, TokenJson("B", 3600, ""));
  ASSERT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "B");
  // Concurrent 401s on the old token do not drop the new one.
  EXPECT_TRUE(client_.InvalidateRejected(Canvas(), "A"));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "B");
  // B refused seconds after it was issued: refreshing again is throttled.
  EXPECT_FALSE(client_.InvalidateRejected(Canvas(), "B"));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "B");
  EXPECT_EQ(client_.request_count(), 2);
  clock_.Advance(seconds(61));
  EXPECT_TRUE(client_.InvalidateRejected(Canvas(), "B"));
  http_.Push(200, TokenJson("C", 3600, ""));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "C");
  EXPECT_EQ(client_.request_count(), 3);
}

TEST_F(ServiceTokenTest, ATokenRefusedAfterWorkingForAWhileTeachesTheRealLifetime) {
  // The platform says expires_in 3600 but ends tokens after ~30 s.
  http_.Push(200, TokenJson("A", 3600, ""));
  ASSERT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "A");
  EXPECT_TRUE(client_.InvalidateRejected(Canvas(), "A"));  // young: a forced refresh
  http_.Push(200, TokenJson("B", 3600, ""));
  ASSERT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "B");
  clock_.Advance(seconds(30));
  // B worked for 30 s: refreshed at once although a forced refresh happened 30 s ago.
  EXPECT_TRUE(client_.InvalidateRejected(Canvas(), "B"));
  http_.Push(200, TokenJson("C", 3600, ""));
  ASSERT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "C");
  // C is replaced before it reaches 80 % of the age B died at, without waiting for a 401.
  clock_.Advance(seconds(23));
  EXPECT_TRUE(client_.Cached(Canvas(), {kScopeScore}).has_value());
  clock_.Advance(seconds(2));
  EXPECT_FALSE(client_.Cached(Canvas(), {kScopeScore}).has_value());
  http_.Push(200, TokenJson("D", 3600, ""));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "D");
  EXPECT_EQ(client_.request_count(), 4);
}

TEST_F(ServiceTokenTest, InvalidateDropsEveryTokenThatCouldServeTheScopes) {
  http_.Push(200, TokenJson("both", 3600, std::string(kScopeScore) + " " + kScopeLineItem));
  ASSERT_TRUE(client_.Get(Canvas(), {kScopeScore, kScopeLineItem}).ok());
  ASSERT_TRUE(client_.Cached(Canvas(), {kScopeScore}).has_value());
  client_.Invalidate(Canvas(), {kScopeScore});
  EXPECT_FALSE(client_.Cached(Canvas(), {kScopeScore}).has_value());
  http_.Push(200, TokenJson("score", 3600, kScopeScore));
  EXPECT_EQ(client_.Get(Canvas(), {kScopeScore})->token, "score");
  EXPECT_EQ(client_.request_count(), 2);
}

TEST_F(ServiceTokenTest, RefusesBadArgumentsWithoutSending) {
  EXPECT_EQ(client_.Get(Canvas(), {}).status().reason(), "token.invalid_scopes");
  EXPECT_EQ(client_.Get(Canvas(), {"a b"}).status().reason(), "token.invalid_scopes");
  Registration bad = Canvas();
  bad.token_url = "not a url";
  EXPECT_EQ(client_.Get(bad, {kScopeScore}).status().reason(), "token.invalid_url");
  bad = Canvas();
  bad.client_id.clear();
  EXPECT_EQ(client_.Get(bad, {kScopeScore}).status().reason(), "token.invalid_registration");
  EXPECT_EQ(http_.count(), 0u);
}

TEST(ScopeLabelTest, ShortNames) {
  EXPECT_EQ(ScopeLabel(kScopeScore), "score");
  EXPECT_EQ(ScopeLabel(kScopeLineItemReadOnly), "lineitem.readonly");
  EXPECT_EQ(ScopeLabel(kScopeNrps), "contextmembership.readonly");
  EXPECT_EQ(ScopeLabel("custom"), "custom");
}

}  // namespace
}  // namespace gb::lti
