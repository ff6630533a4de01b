// POST /sim/token: client_credentials with an RS256 client assertion verified against the fake
// tool's JWKS (fetched through the in-process client), per profile.
#include "sim/token_endpoint.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/lti_names.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::ServiceWorld;

const std::string kAgsScopes = std::string(lti::kScopeLineItem) + " " + lti::kScopeScore;

json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

// Expects an RFC 6749 error with `error` and a description.
void ExpectError(const http::Response& r, int status, const std::string& error) {
  EXPECT_EQ(r.status, status) << r.body;
  json b = Body(r);
  ASSERT_TRUE(b.is_object()) << r.body;
  EXPECT_EQ(b.value("error", ""), error) << r.body;
  EXPECT_FALSE(b.value("error_description", "").empty()) << r.body;
}

// A compact JWS with a hand-made header (alg/kid games SignJwt refuses to play).
std::string SignWithHeader(const jose::RsaPrivateKey& key, const json& header, const json& claims) {
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  auto sig = key.SignRs256(input);
  EXPECT_TRUE(sig.ok());
  return input + "." + Base64UrlEncode(sig.ok() ? *sig : "");
}

TEST(TokenEndpoint, AcceptsACorrectAssertionSignedByTheToolKey) {
  ServiceWorld w(Profile::kGeneric);
  auto r = w.TokenRequest(w.Assertion(), kAgsScopes);
  ASSERT_EQ(r.status, 200) << r.body;
  json b = Body(r);
  EXPECT_FALSE(b.value("access_token", "").empty());
  EXPECT_EQ(b.value("token_type", ""), "bearer");
  EXPECT_EQ(b.value("expires_in", 0), 3600);
  EXPECT_EQ(b.value("scope", ""), kAgsScopes);
  EXPECT_EQ(r.headers.Get("Cache-Control").value_or(""), "no-store");
  EXPECT_EQ(w.world.tool.jwks_fetches.load(), 1);
  EXPECT_EQ(w.platform().access_tokens().size(), 1u);
}

TEST(TokenEndpoint, CachesTheToolJwksAndRefetchesOnAnUnknownKid) {
  ServiceWorld w(Profile::kGeneric);
  ASSERT_EQ(w.TokenRequest(w.Assertion(), kAgsScopes).status, 200);
  ASSERT_EQ(w.TokenRequest(w.Assertion(), kAgsScopes).status, 200);
  EXPECT_EQ(w.world.tool.jwks_fetches.load(), 1) << "cached";
  w.world.tool.RotateKey();  // a new kid: one refetch finds it
  auto r = w.TokenRequest(w.Assertion(), kAgsScopes);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(w.world.tool.jwks_fetches.load(), 2);
}

TEST(TokenEndpoint, RejectsAnUnknownKid) {
  ServiceWorld w(Profile::kGeneric);
  auto r = w.TokenRequest(w.Sign(w.Claims(), "no-such-kid"), kAgsScopes);
  ExpectError(r, 400, "invalid_client");
  EXPECT_NE(Body(r).value("error_description", "").find("kid"), std::string::npos);
}

TEST(TokenEndpoint, RejectsABadSignature) {
  ServiceWorld w(Profile::kGeneric);
  std::string jwt = w.Assertion();
  size_t dot = jwt.rfind('.');
  jwt[dot + 5] = jwt[dot + 5] == 'A' ? 'B' : 'A';
  ExpectError(w.TokenRequest(jwt, kAgsScopes), 400, "invalid_client");
}

TEST(TokenEndpoint, RejectsAnAssertionSignedByAnotherKey) {
  ServiceWorld w(Profile::kGeneric);
  auto other = jose::RsaPrivateKey::FromPem(testing::TestKeyPems().first);
  ASSERT_TRUE(other.ok());
  auto jwt = jose::SignJwt(w.Claims(), *other, w.world.tool.kid());
  ASSERT_TRUE(jwt.ok());
  ExpectError(w.TokenRequest(*jwt, kAgsScopes), 400, "invalid_client");
}

TEST(TokenEndpoint, RejectsAnExpiredAssertion) {
  ServiceWorld w(Profile::kGeneric);
  int64_t now = w.clock.NowSeconds();
  ExpectError(w.TokenRequest(w.Assertion({{"iat", now - 400}, {"exp", now - 1}}), kAgsScopes), 400,
              "invalid_client");
}

TEST(TokenEndpoint, RejectsAReplayedJti) {
  ServiceWorld w(Profile::kGeneric);
  std::string jwt = w.Assertion();
  ASSERT_EQ(w.TokenRequest(jwt, kAgsScopes).status, 200);
  ExpectError(w.TokenRequest(jwt, kAgsScopes), 400, "invalid_client");
  // A new jti is fine.
  EXPECT_EQ(w.TokenRequest(w.Assertion(), kAgsScopes).status, 200);
}

TEST(TokenEndpoint, RejectsIssDifferentFromSub) {
  ServiceWorld w(Profile::kGeneric);
  ExpectError(w.TokenRequest(w.Assertion({{"iss", "someone-else"}}), kAgsScopes), 400, "invalid_client");
}

TEST(TokenEndpoint, RejectsMissingClaims) {
  ServiceWorld w(Profile::kGeneric);
  for (const char* claim : {"iss", "aud", "exp", "iat", "jti"}) {
    auto r = w.TokenRequest(w.Assertion({{claim, nullptr}}), kAgsScopes);
    ExpectError(r, 400, "invalid_client");
    EXPECT_NE(r.body.find("missing"), std::string::npos) << claim << ": " << r.body;
  }
}

TEST(TokenEndpoint, RejectsAnUnknownClient) {
  ServiceWorld w(Profile::kGeneric);
  json c = w.Claims({{"iss", "not-registered"}, {"sub", "not-registered"}});
  ExpectError(w.TokenRequest(w.Sign(c), kAgsScopes), 400, "invalid_client");
}

TEST(TokenEndpoint, RejectsAMissingOrEmptyScope) {
  ServiceWorld w(Profile::kGeneric);
  ExpectError(w.TokenRequest(w.Assertion(), ""), 400, "invalid_request");
  ExpectError(w.TokenRequest(w.Assertion(), "   "), 400, "invalid_request");
  FormFields f = {{"grant_type", "client_credentials"},
                  {"client_assertion_type", kClientAssertionType},
                  {"client_assertion", w.Assertion()}};
  ExpectError(w.Post("/sim/token", EncodeForm(f), "application/x-www-form-urlencoded"), 400, "invalid_request");
}

TEST(TokenEndpoint, GrantsOnlyServiceScopes) {
  ServiceWorld w(Profile::kGeneric);
  auto r = w.TokenRequest(w.Assertion(), std::string("openid ") + lti::kScopeScore + " " + lti::kScopeNrps);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r).value("scope", ""), std::string(lti::kScopeScore) + " " + lti::kScopeNrps);
  ExpectError(w.TokenRequest(w.Assertion(), "openid profile"), 400, "invalid_scope");
}

TEST(TokenEndpoint, ChecksGrantTypeAssertionTypeAndFormEncoding) {
  ServiceWorld w(Profile::kGeneric);
  auto form = [&](std::string grant, std::string type) {
    return EncodeForm({{"grant_type", grant},
                       {"client_assertion_type", type},
                       {"client_assertion", w.Assertion()},
                       {"scope", kAgsScopes}});
  };
  ExpectError(w.Post("/sim/token", form("authorization_code", kClientAssertionType),
                     "application/x-www-form-urlencoded"),
              400, "unsupported_grant_type");
  ExpectError(w.Post("/sim/token", form("client_credentials", "urn:other"), "application/x-www-form-urlencoded"), 400,
              "invalid_request");
  ExpectError(w.Post("/sim/token", form("client_credentials", kClientAssertionType), "application/json"), 400,
              "invalid_request");
  // Parameters after ';' in the Content-Type are fine.
  EXPECT_EQ(w.Post("/sim/token", form("client_credentials", kClientAssertionType),
                   "application/x-www-form-urlencoded; charset=utf-8")
                .status,
            200);
  // A parameter sent twice is a malformed request (RFC 6749 §3.2).
  std::string twice = form("client_credentials", kClientAssertionType) + "&scope=x";
  ExpectError(w.Post("/sim/token", twice, "application/x-www-form-urlencoded"), 400, "invalid_request");
}

TEST(TokenEndpoint, RequiresRs256AndAKid) {
  ServiceWorld w(Profile::kGeneric);
  const auto& key = w.world.tool.key();
  ExpectError(w.TokenRequest(SignWithHeader(key, {{"alg", "RS512"}, {"kid", w.world.tool.kid()}}, w.Claims()),
                             kAgsScopes),
              400, "invalid_client");
  ExpectError(w.TokenRequest(SignWithHeader(key, {{"alg", "RS256"}, {"typ", "JWT"}}, w.Claims()), kAgsScopes), 400,
              "invalid_client");
  ExpectError(w.TokenRequest("not-a-jwt", kAgsScopes), 400, "invalid_client");
}

TEST(TokenEndpoint, ToolJwksUnreachableOrUnregistered) {
  ServiceWorld w(Profile::kGeneric);
  w.world.tool.jwks_status = 503;
  ExpectError(w.TokenRequest(w.Assertion(), kAgsScopes), 400, "invalid_client");
  ToolSpec spec = w.world.tool.Spec(Profile::kGeneric);
  spec.jwks_url.clear();
  auto bare = w.platform().RegisterTool(spec);
  ASSERT_TRUE(bare.ok());
  ExpectError(w.TokenRequest(w.Sign(w.Claims({}, bare->client_id)), kAgsScopes), 400, "invalid_client");
}

// --- Canvas ----------------------------------------------------------------------------------

TEST(TokenEndpointCanvas, RejectsAWrongAudWith400InvalidRequest) {
  ServiceWorld w(Profile::kCanvas);
  auto r = w.TokenRequest(w.Assertion({{"aud", "https://canvas.instructure.com/login/oauth2/token"}}), kAgsScopes);
  ExpectError(r, 400, "invalid_request");
  EXPECT_NE(r.body.find("the 'aud' is invalid"), std::string::npos) << r.body;
  // The token URL, as a string or inside an array, is right.
  EXPECT_EQ(w.TokenRequest(w.Assertion(), kAgsScopes).status, 200);
  EXPECT_EQ(w.TokenRequest(w.Assertion({{"aud", json::array({"x", w.platform().TokenUrl()})}}), kAgsScopes).status,
            200);
}

TEST(TokenEndpointCanvas, AnswersBearerWithACapitalB) {
  ServiceWorld w(Profile::kCanvas);
  auto r = w.TokenRequest(w.Assertion(), kAgsScopes);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r).value("token_type", ""), "Bearer");
}

TEST(TokenEndpointCanvas, RejectsAnIatOlderThanFiveMinutes) {
  ServiceWorld w(Profile::kCanvas);
  int64_t now = w.clock.NowSeconds();
  auto r = w.TokenRequest(w.Assertion({{"iat", now - 301}, {"exp", now + 60}}), kAgsScopes);
  ExpectError(r, 400, "invalid_request");
  EXPECT_NE(r.body.find("300 seconds"), std::string::npos) << r.body;
  EXPECT_EQ(w.TokenRequest(w.Assertion({{"iat", now - 299}}), kAgsScopes).status, 200);
}

TEST(TokenEndpointCanvas, InvalidClientIs401WithCanvasChallenge) {
  ServiceWorld w(Profile::kCanvas);
  ToolSpec spec = w.world.tool.Spec(Profile::kCanvas);
  spec.jwks_url.clear();  // a developer key without a public JWK URL
  auto bare = w.platform().RegisterTool(spec);
  ASSERT_TRUE(bare.ok());
  auto r = w.TokenRequest(w.Sign(w.Claims({}, bare->client_id)), kAgsScopes);
  ExpectError(r, 401, "invalid_client");
  EXPECT_EQ(r.headers.Get("WWW-Authenticate").value_or(""), "Canvas OAuth 2.0");
  // An unknown sub names no tool, hence no profile: the generic answer (400).
  json c = w.Claims({{"iss", "10000000000999"}, {"sub", "10000000000999"}});
  ExpectError(w.TokenRequest(w.Sign(c), kAgsScopes), 400, "invalid_client");
}

TEST(TokenEndpointCanvas, RefusesAnyScopeItCannotGrant) {
  ServiceWorld w(Profile::kCanvas);
  auto r = w.TokenRequest(w.Assertion(), std::string(lti::kScopeScore) + " https://example.com/scope/other");
  ExpectError(r, 400, "invalid_scope");
  EXPECT_NE(r.body.find("requested, but not granted"), std::string::npos);
}

TEST(TokenEndpointCanvas, RequiresIssButNotItsValueAndDoesNotCheckJti) {
  // Canvas's asymmetric client-credentials provider requires iss without checking its value and
  // skips the jti replay check (skip_jti_check: true): reproduced as documented.
  ServiceWorld w(Profile::kCanvas);
  ExpectError(w.TokenRequest(w.Assertion({{"iss", nullptr}}), kAgsScopes), 400, "invalid_request");
  EXPECT_EQ(w.TokenRequest(w.Assertion({{"iss", "anything"}}), kAgsScopes).status, 200);
  std::string jwt = w.Assertion();
  EXPECT_EQ(w.TokenRequest(jwt, kAgsScopes).status, 200);
  EXPECT_EQ(w.TokenRequest(jwt, kAgsScopes).status, 200);
}

TEST(TokenEndpointCanvas, ABadSignatureIsJwsSignatureInvalid) {
  ServiceWorld w(Profile::kCanvas);
  auto other = jose::RsaPrivateKey::FromPem(testing::TestKeyPems().second);
  ASSERT_TRUE(other.ok());
  auto jwt = jose::SignJwt(w.Claims(), *other, w.world.tool.kid());
  ASSERT_TRUE(jwt.ok());
  auto r = w.TokenRequest(*jwt, kAgsScopes);
  ExpectError(r, 400, "invalid_request");
  EXPECT_EQ(Body(r).value("error_description", ""), "JWS signature invalid.");
}

TEST(TokenEndpointCanvas, AcceptsTheScopesParameterName) {
  ServiceWorld w(Profile::kCanvas);
  FormFields f = {{"grant_type", "client_credentials"},
                  {"client_assertion_type", kClientAssertionType},
                  {"client_assertion", w.Assertion()},
                  {"scopes", kAgsScopes}};
  EXPECT_EQ(w.Post("/sim/token", EncodeForm(f), "application/x-www-form-urlencoded").status, 200);
}

// --- Brightspace -----------------------------------------------------------------------------

TEST(TokenEndpointBrightspace, RequiresTheFixedAudience) {
  ServiceWorld w(Profile::kBrightspace);
  auto wrong = w.TokenRequest(w.Assertion({{"aud", w.platform().TokenUrl()}}), kAgsScopes);
  ExpectError(wrong, 400, "invalid_client");
  EXPECT_NE(wrong.body.find(kBrightspaceAudience), std::string::npos);
  auto ok = w.TokenRequest(w.Assertion({{"aud", kBrightspaceAudience}}), kAgsScopes);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(TokenEndpointBrightspace, RejectsAnArrayAudEvenWithTheRightValue) {
  ServiceWorld w(Profile::kBrightspace);
  auto r = w.TokenRequest(w.Assertion({{"aud", json::array({kBrightspaceAudience})}}), kAgsScopes);
  ExpectError(r, 400, "invalid_client");
  EXPECT_NE(r.body.find("array"), std::string::npos) << r.body;
}

TEST(TokenEndpointBrightspace, RejectsAReplayedJti) {
  ServiceWorld w(Profile::kBrightspace);
  std::string jwt = w.Assertion();
  ASSERT_EQ(w.TokenRequest(jwt, kAgsScopes).status, 200);
  ExpectError(w.TokenRequest(jwt, kAgsScopes), 400, "invalid_client");
}

// --- Moodle ----------------------------------------------------------------------------------

TEST(TokenEndpointMoodle, AcceptsAWrongAudAReplayedJtiAndAnyIssAsMoodleDoes) {
  ServiceWorld w(Profile::kMoodle);
  EXPECT_EQ(w.TokenRequest(w.Assertion({{"aud", "https://wrong.example/token"}}), kAgsScopes).status, 200);
  EXPECT_EQ(w.TokenRequest(w.Assertion({{"aud", nullptr}, {"jti", nullptr}, {"iss", nullptr}}), kAgsScopes).status,
            200);
  std::string jwt = w.Assertion();
  EXPECT_EQ(w.TokenRequest(jwt, kAgsScopes).status, 200);
  EXPECT_EQ(w.TokenRequest(jwt, kAgsScopes).status, 200) << "Moodle does not check jti";
}

TEST(TokenEndpointMoodle, StillChecksSignatureKidExpiryAndScope) {
  ServiceWorld w(Profile::kMoodle);
  int64_t now = w.clock.NowSeconds();
  ExpectError(w.TokenRequest(w.Sign(w.Claims(), "unknown"), kAgsScopes), 400, "invalid_client");
  ExpectError(w.TokenRequest(w.Assertion({{"exp", now - 5}}), kAgsScopes), 400, "invalid_client");
  ExpectError(w.TokenRequest(w.Assertion(), ""), 400, "invalid_request");
  ExpectError(w.TokenRequest(w.Assertion(), "openid"), 400, "invalid_scope");
  auto ok = w.TokenRequest(w.Assertion(), kAgsScopes);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(Body(ok).value("token_type", ""), "Bearer");
}

TEST(TokenEndpoint, StoresAreBounded) {
  AccessTokenStore store(3);
  for (int i = 0; i < 10; ++i) store.Add("t" + std::to_string(i), AccessToken{"c", {}, i, 1000 + i}, 0);
  EXPECT_LE(store.size(), 3u);
  EXPECT_TRUE(store.Find("t9"));
  JtiRegistry jtis;
  EXPECT_TRUE(jtis.Use("c", "j", 100, 0));
  EXPECT_FALSE(jtis.Use("c", "j", 100, 50));
  EXPECT_TRUE(jtis.Use("other", "j", 100, 50));
  EXPECT_TRUE(jtis.Use("c", "j", 100, 700)) << "forgotten once expired";
}

}  // namespace
}  // namespace gb::sim
