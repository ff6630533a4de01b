#include "lti/launch_validator.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "base/strings.h"
#include "jose/jose.h"
#include "lti/claims.h"
#include "lti/test_fakes.h"

namespace gb::lti {
namespace {

using nlohmann::json;

using testing::MemoryNonces;
using testing::MemoryRegistrations;

class StaticKeys final : public JwksProvider {
 public:
  std::map<std::string, jose::RsaPublicKey> keys;
  Result<jose::RsaPublicKey> FindKey(const Registration&, std::string_view kid) override {
    auto it = keys.find(std::string(kid));
    if (it == keys.end()) return Error(Code::kNotFound, "jwks.unknown_kid", "unknown kid");
    return it->second;
  }
};

const jose::RsaPrivateKey& PlatformKey() {
  static const jose::RsaPrivateKey key = *jose::RsaPrivateKey::Generate(2048);
  return key;
}
const jose::RsaPrivateKey& OtherKey() {
  static const jose::RsaPrivateKey key = *jose::RsaPrivateKey::Generate(2048);
  return key;
}

constexpr char kIss[] = "https://platform.test";
constexpr char kClient[] = "tool-client-1";
constexpr char kTarget[] = "https://tool.test/lti/launch";

struct Case {
  std::string name;
  std::function<void(json& header, json& claims, LaunchInput& in, std::string& token)> mutate;
  std::string expected_reason;  // empty: must be accepted
};

class LaunchValidatorTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    Registration r;
    r.id = RegistrationId("r1");
    r.tenant_id = TenantId("t1");
    r.issuer = kIss;
    r.client_id = kClient;
    r.deployment_ids = {"dep-1"};
    r.jwks_url = "https://platform.test/jwks";
    ASSERT_TRUE(regs_.AddRegistration(r).ok());
    keys_.keys["k1"] = PlatformKey().PublicKey();
    keys_.keys["k2"] = OtherKey().PublicKey();
  }

  json ValidClaims(int64_t now) {
    return {{"iss", kIss},
            {"aud", kClient},
            {"sub", "user-1"},
            {"iat", now},
            {"exp", now + 60},
            {"nonce", "nonce-1"},
            {kClaimMessageType, kMsgResourceLink},
            {kClaimVersion, kLtiVersion},
            {kClaimDeploymentId, "dep-1"},
            {kClaimTargetLinkUri, kTarget},
            {kClaimResourceLink, {{"id", "rl-1"}, {"title", "Quiz"}}},
            {kClaimRoles, {"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"}},
            {kClaimContext, {{"id", "ctx-1"}, {"title", "Biology"}}}};
  }

  Result<VerifiedIdToken> Run(const Case& c) {
    int64_t now = clock_.NowSeconds();
    LoginState login{"state-1", "nonce-1", "r1", kTarget, "", now + 600};
    LaunchInput in;
    in.state = "state-1";
    in.state_cookie = codec_.Seal(login);
    in.any_state_cookie = true;
    json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}};
    json claims = ValidClaims(now);
    std::string token;
    c.mutate(header, claims, in, token);
    if (token.empty()) {
      // Sign with the platform key unless the case re-signs itself.
      std::string h = Base64UrlEncode(header.dump());
      std::string p = Base64UrlEncode(claims.dump());
      auto sig = PlatformKey().SignRs256(h + "." + p);
      token = h + "." + p + "." + Base64UrlEncode(*sig);
    }
    if (in.id_token.empty()) in.id_token = token;
    if (in.id_token == "<empty>") in.id_token.clear();
    LaunchValidator v(regs_, nonces_, keys_, codec_, clock_);
    return v.Validate(in);
  }

  FakeClock clock_;
  MemoryRegistrations regs_;
  MemoryNonces nonces_;
  StaticKeys keys_;
  LoginStateCodec codec_{"test-hmac-key"};
};

TEST_P(LaunchValidatorTest, RejectsOrAcceptsForTheRightReason) {
  const Case& c = GetParam();
  auto result = Run(c);
  if (c.expected_reason.empty()) {
    EXPECT_TRUE(result.ok()) << result.status().ToString();
  } else {
    ASSERT_FALSE(result.ok()) << "accepted a launch that must be refused";
    EXPECT_EQ(result.status().reason(), c.expected_reason) << result.status().ToString();
    EXPECT_GE(result.status().http_status(), 400);
    EXPECT_LT(result.status().http_status(), 500 + (c.expected_reason == "launch.jwks_unavailable" ? 100 : 0));
  }
}

using H = json&;
#define MUT [](H header, H claims, LaunchInput & in, std::string & token)

std::vector<Case> Cases() {
  return {
      {"valid", MUT { (void)header, (void)claims, (void)in, (void)token; }, ""},
      {"aud_array_with_azp", MUT { (void)header, (void)in, (void)token; claims["aud"] = {kClient, "other"}; claims["azp"] = kClient; }, ""},
      {"unknown_claims", MUT { (void)header, (void)in, (void)token; claims["https://vendor.test/claim/x"] = {{"a", 1}}; }, ""},
      {"clock_skew_small", MUT { (void)header, (void)in, (void)token; claims["iat"] = claims["iat"].get<int64_t>() + 30; }, ""},
      {"empty_roles", MUT { (void)header, (void)in, (void)token; claims[kClaimRoles] = json::array(); }, ""},
      {"short_and_unknown_roles", MUT { (void)header, (void)in, (void)token; claims[kClaimRoles] = {"Instructor", "urn:x:weird"}; }, ""},
      {"no_context", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimContext); }, ""},
      {"missing_state", MUT { (void)header, (void)claims, (void)token; in.state.clear(); }, "launch.missing_state"},
      {"no_session_cookie", MUT { (void)header, (void)claims, (void)token; in.state_cookie.reset(); in.any_state_cookie = false; }, "launch.no_session"},
      {"state_mismatch", MUT { (void)header, (void)claims, (void)token; in.state = "other-state"; }, "launch.state_mismatch"},
      {"forged_state_cookie", MUT { (void)header, (void)claims, (void)token; (*in.state_cookie)[3] ^= 1; }, "launch.state_cookie_invalid"},
      {"missing_id_token", MUT { (void)header, (void)claims, (void)token; in.id_token = "<empty>"; }, "launch.missing_id_token"},
      {"token_too_large", MUT { (void)header, (void)claims, (void)token; in.id_token = std::string(20000, 'a'); }, "launch.token_too_large"},
      {"two_segments", MUT { (void)header, (void)claims, (void)token; in.id_token = "abc.def"; }, "launch.malformed_jwt"},
      {"payload_not_json", MUT { (void)header, (void)claims, (void)token; in.id_token = Base64UrlEncode("{\"alg\":\"RS256\"}") + "." + Base64UrlEncode("nope") + ".c2ln"; }, "launch.malformed_jwt"},
      {"alg_none", MUT { (void)claims, (void)in; header["alg"] = "none"; token = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump()) + "."; }, "launch.bad_alg"},
      {"alg_hs256", MUT {
         (void)in;
         header["alg"] = "HS256";
         std::string si = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
         token = si + "." + Base64UrlEncode(jose::HmacSha256(PlatformKey().PublicKey().ToPem(), si));
       }, "launch.bad_alg"},
      {"alg_rs512", MUT { (void)claims, (void)in, (void)token; header["alg"] = "RS512"; }, "launch.bad_alg"},
      {"missing_kid", MUT { (void)claims, (void)in, (void)token; header.erase("kid"); }, "launch.missing_kid"},
      {"unknown_kid", MUT { (void)claims, (void)in, (void)token; header["kid"] = "nope"; }, "launch.unknown_kid"},
      {"wrong_key_for_kid", MUT { (void)claims, (void)in, (void)token; header["kid"] = "k2"; }, "launch.bad_signature"},
      {"tampered_payload", MUT {
         (void)in;
         std::string h = Base64UrlEncode(header.dump());
         auto sig = PlatformKey().SignRs256(h + "." + Base64UrlEncode(claims.dump()));
         claims["sub"] = "admin";
         token = h + "." + Base64UrlEncode(claims.dump()) + "." + Base64UrlEncode(*sig);
       }, "launch.bad_signature"},
      {"wrong_iss", MUT { (void)header, (void)in, (void)token; claims["iss"] = "https://evil.test"; }, "launch.wrong_issuer"},
      {"iss_trailing_slash", MUT { (void)header, (void)in, (void)token; claims["iss"] = std::string(kIss) + "/"; }, "launch.wrong_issuer"},
      {"wrong_aud", MUT { (void)header, (void)in, (void)token; claims["aud"] = "someone-else"; }, "launch.wrong_audience"},
      {"aud_array_no_azp", MUT { (void)header, (void)in, (void)token; claims["aud"] = {kClient, "other"}; }, "launch.missing_azp"},
      {"azp_mismatch", MUT { (void)header, (void)in, (void)token; claims["azp"] = "other"; }, "launch.azp_mismatch"},
      {"missing_exp", MUT { (void)header, (void)in, (void)token; claims.erase("exp"); }, "launch.missing_exp"},
      {"exp_string", MUT { (void)header, (void)in, (void)token; claims["exp"] = std::to_string(claims["exp"].get<int64_t>()); }, "launch.missing_exp"},
      {"expired", MUT { (void)header, (void)in, (void)token; claims["exp"] = claims["iat"].get<int64_t>() - 300; claims["iat"] = claims["iat"].get<int64_t>() - 400; }, "launch.expired"},
      {"missing_iat", MUT { (void)header, (void)in, (void)token; claims.erase("iat"); }, "launch.missing_iat"},
      {"iat_in_future", MUT { (void)header, (void)in, (void)token; claims["iat"] = claims["iat"].get<int64_t>() + 600; claims["exp"] = claims["iat"].get<int64_t>() + 60; }, "launch.iat_in_future"},
      {"exp_before_iat", MUT { (void)header, (void)in, (void)token; claims["exp"] = claims["iat"].get<int64_t>() + 30; claims["iat"] = claims["iat"].get<int64_t>() + 40; }, "launch.bad_timestamps"},
      {"missing_nonce", MUT { (void)header, (void)in, (void)token; claims.erase("nonce"); }, "launch.missing_nonce"},
      {"wrong_nonce", MUT { (void)header, (void)in, (void)token; claims["nonce"] = "other"; }, "launch.nonce_mismatch"},
      {"missing_deployment_id", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimDeploymentId); }, "launch.missing_deployment_id"},
      {"unknown_deployment_id", MUT { (void)header, (void)in, (void)token; claims[kClaimDeploymentId] = "dep-9"; }, "launch.unknown_deployment"},
      {"missing_message_type", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimMessageType); }, "launch.missing_message_type"},
      {"unknown_message_type", MUT { (void)header, (void)in, (void)token; claims[kClaimMessageType] = "LtiStartProctoring"; }, "launch.unsupported_message_type"},
      {"missing_version", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimVersion); }, "launch.missing_version"},
      {"wrong_version", MUT { (void)header, (void)in, (void)token; claims[kClaimVersion] = "1.1.0"; }, "launch.wrong_version"},
      {"missing_sub", MUT { (void)header, (void)in, (void)token; claims.erase("sub"); }, "launch.missing_sub"},
      {"missing_target_link_uri", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimTargetLinkUri); }, "launch.missing_target_link_uri"},
      {"target_link_uri_mismatch", MUT { (void)header, (void)in, (void)token; claims[kClaimTargetLinkUri] = "https://tool.test/other"; }, "launch.target_link_uri_mismatch"},
      {"missing_roles", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimRoles); }, "launch.missing_roles"},
      {"missing_resource_link", MUT { (void)header, (void)in, (void)token; claims.erase(kClaimResourceLink); }, "launch.missing_resource_link"},
      {"missing_resource_link_id", MUT { (void)header, (void)in, (void)token; claims[kClaimResourceLink].erase("id"); }, "launch.missing_resource_link_id"},
      {"submission_review", MUT { (void)header, (void)in, (void)token; claims[kClaimMessageType] = kMsgSubmissionReview; claims[kClaimForUser] = {{"user_id", "learner-7"}}; }, ""},
      {"submission_review_without_for_user", MUT { (void)header, (void)in, (void)token; claims[kClaimMessageType] = kMsgSubmissionReview; }, "launch.missing_for_user"},
      {"submission_review_empty_for_user", MUT { (void)header, (void)in, (void)token; claims[kClaimMessageType] = kMsgSubmissionReview; claims[kClaimForUser] = {{"user_id", ""}}; }, "launch.missing_for_user"},
  };
}

INSTANTIATE_TEST_SUITE_P(Checklist, LaunchValidatorTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST_F(LaunchValidatorTest, ReplayedNonceIsRefusedEvenWithValidSignature) {
  Case valid{"valid", MUT { (void)header, (void)claims, (void)in, (void)token; }, ""};
  ASSERT_TRUE(Run(valid).ok());
  auto again = Run(valid);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().reason(), "launch.nonce_replayed");
}

TEST_F(LaunchValidatorTest, ExpiredLoginStateIsRefused) {
  Case late{"late", MUT { (void)header, (void)claims, (void)token, (void)in; }, ""};
  // Seal happens at "now"; move the clock past the state's lifetime before validating by
  // sealing with an already-expired state.
  int64_t now = clock_.NowSeconds();
  LoginState login{"state-1", "nonce-1", "r1", kTarget, "", now - 1};
  LaunchInput in;
  in.state = "state-1";
  in.state_cookie = codec_.Seal(login);
  in.any_state_cookie = true;
  in.id_token = "x.y.z";
  LaunchValidator v(regs_, nonces_, keys_, codec_, clock_);
  auto r = v.Validate(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "launch.state_expired");
}

TEST_F(LaunchValidatorTest, LaunchIsBuiltOnlyFromVerifiedClaims) {
  Case valid{"valid", MUT { (void)header, (void)in, (void)token; claims[kClaimCustom] = {{"quiz", "7"}}; }, ""};
  auto r = Run(valid);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Launch l = Launch::FromVerified(*r, "L1", 5);
  EXPECT_EQ(l.user.id, "user-1");
  EXPECT_EQ(l.deployment_id, "dep-1");
  EXPECT_TRUE(l.is_learner);
  EXPECT_FALSE(l.is_instructor);
  ASSERT_TRUE(l.resource_link.has_value());
  EXPECT_EQ(l.resource_link->id, "rl-1");
  EXPECT_EQ(l.custom.at("quiz"), "7");
  auto round = Launch::FromJson(l.ToJson());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->ToJson(), l.ToJson());
}

// A submission review is handed off like a resource-link launch, naming the reviewed learner.
TEST_F(LaunchValidatorTest, SubmissionReviewNamesTheReviewedUser) {
  Case review{"review", MUT {
                (void)header, (void)in, (void)token;
                claims[kClaimMessageType] = kMsgSubmissionReview;
                claims[kClaimForUser] = {{"user_id", "learner-7"}, {"name", "Ada"}};
              }, ""};
  auto r = Run(review);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Launch l = Launch::FromVerified(*r, "L2", 5);
  EXPECT_EQ(l.message_type, kMsgSubmissionReview);
  EXPECT_EQ(l.for_user_id, "learner-7");
  EXPECT_EQ(l.user.id, "user-1");  // the reviewer
  ASSERT_TRUE(l.resource_link.has_value());
  EXPECT_EQ(l.ToJson()["for_user_id"], "learner-7");
}

}  // namespace
}  // namespace gb::lti
