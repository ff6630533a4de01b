// The id_token the simulator issues: signature, exact claim URIs per profile, and what each
// mutation does to it.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "base/clock.h"
#include "sim/lti_names.h"
#include "sim/platform.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000;  // FakeClock's default start

class IdTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = testing::MakePlatform("http://sim.test", &clock_);
    ASSERT_TRUE(platform_);
    jwks_ = *jose::Jwks::Parse(platform_->JwksJson());
  }

  Tool Register(Profile p, std::map<std::string, std::string> custom = {}) {
    ToolSpec s = tool_.Spec(p);
    s.custom = std::move(custom);
    auto t = platform_->RegisterTool(s);
    EXPECT_TRUE(t.ok());
    return *t;
  }

  jose::CompactJws Issue(const Tool& tool, std::string user = "learner1", std::vector<Mutation> m = {},
                         std::string link = "rl-quiz-1",
                         std::string message_type = lti::kMsgResourceLink) {
    LaunchSpec spec{tool.client_id, std::move(user), std::move(link), std::move(message_type), std::move(m)};
    auto token = platform_->BuildIdToken(spec, "the-nonce");
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    auto jws = jose::ParseCompact(token.value_or("a.b.c"));
    EXPECT_TRUE(jws.ok()) << jws.status().ToString();
    return jws.ok() ? *jws : jose::CompactJws{};
  }

  bool Verifies(const jose::CompactJws& jws) {
    if (!jws.header || !jws.header->contains("kid") || !(*jws.header)["kid"].is_string()) return false;
    const jose::Jwk* jwk = jwks_.Find((*jws.header)["kid"].get<std::string>());
    return jwk && jose::VerifyRs256(jws, jwk->key).ok();
  }

  FakeClock clock_;
  std::unique_ptr<Platform> platform_;
  jose::Jwks jwks_;
  testing::FakeTool tool_;
};

TEST_F(IdTokenTest, ClaimNamesMatchTheSpecDigest) {
  // Re-typed from ../shared/spec/lti-digest.md §13 on purpose: a typo in either copy fails here.
  EXPECT_STREQ(lti::kClaimMessageType, "https://purl.imsglobal.org/spec/lti/claim/message_type");
  EXPECT_STREQ(lti::kClaimVersion, "https://purl.imsglobal.org/spec/lti/claim/version");
  EXPECT_STREQ(lti::kClaimDeploymentId, "https://purl.imsglobal.org/spec/lti/claim/deployment_id");
  EXPECT_STREQ(lti::kClaimTargetLinkUri, "https://purl.imsglobal.org/spec/lti/claim/target_link_uri");
  EXPECT_STREQ(lti::kClaimResourceLink, "https://purl.imsglobal.org/spec/lti/claim/resource_link");
  EXPECT_STREQ(lti::kClaimRoles, "https://purl.imsglobal.org/spec/lti/claim/roles");
  EXPECT_STREQ(lti::kClaimContext, "https://purl.imsglobal.org/spec/lti/claim/context");
  EXPECT_STREQ(lti::kClaimToolPlatform, "https://purl.imsglobal.org/spec/lti/claim/tool_platform");
  EXPECT_STREQ(lti::kClaimLaunchPresentation, "https://purl.imsglobal.org/spec/lti/claim/launch_presentation");
  EXPECT_STREQ(lti::kClaimCustom, "https://purl.imsglobal.org/spec/lti/claim/custom");
  EXPECT_STREQ(lti::kClaimAgsEndpoint, "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint");
  EXPECT_STREQ(lti::kClaimNrps, "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice");
  EXPECT_STREQ(lti::kClaimDlSettings, "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings");
  EXPECT_STREQ(lti::kScopeScore, "https://purl.imsglobal.org/spec/lti-ags/scope/score");
}

TEST_F(IdTokenTest, MoodleTokenVerifiesAndCarriesEveryClaim) {
  Tool tool = Register(Profile::kMoodle);
  auto jws = Issue(tool);
  ASSERT_TRUE(jws.header);
  EXPECT_EQ((*jws.header)["alg"], "RS256");
  EXPECT_EQ((*jws.header)["kid"], platform_->kid());
  EXPECT_TRUE(Verifies(jws));
  const json& c = *jws.payload;
  EXPECT_EQ(c["iss"], "http://sim.test");
  EXPECT_EQ(c["aud"], tool.client_id);
  EXPECT_TRUE(c["aud"].is_string());
  EXPECT_FALSE(c.contains("azp"));
  EXPECT_EQ(c["sub"], "learner1");
  EXPECT_EQ(c["iat"], kNow);
  EXPECT_EQ(c["exp"], kNow + 60);
  EXPECT_EQ(c["nonce"], "the-nonce");
  EXPECT_EQ(c["given_name"], "Grace");
  EXPECT_EQ(c["family_name"], "Hopper");
  EXPECT_EQ(c["name"], "Grace Hopper");
  EXPECT_EQ(c["email"], "grace.hopper@sim.example.edu");
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/message_type"], "LtiResourceLinkRequest");
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/version"], "1.3.0");
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/deployment_id"], "1");
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"], tool_.target_url());
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"], "rl-quiz-1");
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["title"], "Quiz 1");
  json roles = c["https://purl.imsglobal.org/spec/lti/claim/roles"];
  EXPECT_NE(std::find(roles.begin(), roles.end(), "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"),
            roles.end());
  EXPECT_NE(std::find(roles.begin(), roles.end(),
                      "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"),
            roles.end());
  const json& ctx = c["https://purl.imsglobal.org/spec/lti/claim/context"];
  EXPECT_EQ(ctx["id"], "1001");
  EXPECT_EQ(ctx["label"], "CS101");
  EXPECT_EQ(ctx["type"][0], "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering");
  const json& tp = c["https://purl.imsglobal.org/spec/lti/claim/tool_platform"];
  EXPECT_FALSE(tp["guid"].get<std::string>().empty());
  EXPECT_EQ(tp["product_family_code"], "moodle");
  EXPECT_TRUE(tp.contains("version"));
  const json& lp = c["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"];
  EXPECT_EQ(lp["document_target"], "iframe");
  EXPECT_EQ(lp["return_url"], "http://sim.test/sim/return");
  const json& ags = c["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"];
  EXPECT_EQ(ags["scope"].size(), 4u);
  EXPECT_EQ(ags["lineitems"], "http://sim.test/sim/api/lti/courses/1001/line_items?type_id=1");
  EXPECT_EQ(ags["lineitem"], "http://sim.test/sim/api/lti/courses/1001/line_items/1?type_id=1");
  const json& nrps = c["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"];
  EXPECT_EQ(nrps["context_memberships_url"], "http://sim.test/sim/api/lti/courses/1001/names_and_roles");
  EXPECT_EQ(nrps["service_versions"], json::array({"2.0"}));
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/ext"]["lms"], "moodle-2");
}

TEST_F(IdTokenTest, CanvasTokenShape) {
  Tool tool = Register(Profile::kCanvas, {{"level", "3"}});
  auto jws = Issue(tool, "instructor", {}, "rl-essay");
  EXPECT_TRUE(Verifies(jws));
  const json& c = *jws.payload;
  EXPECT_EQ(c["aud"], tool.client_id);
  EXPECT_EQ(c["azp"], tool.client_id);
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 3600);
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/deployment_id"], tool.deployment_id);
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/tool_platform"]["product_family_code"], "canvas");
  EXPECT_TRUE(c.contains("https://www.instructure.com/placement"));
  const json& custom = c["https://purl.imsglobal.org/spec/lti/claim/custom"];
  EXPECT_EQ(custom["level"], "3");
  for (const auto& [k, v] : custom.items()) EXPECT_TRUE(v.is_string()) << k;
  json roles = c["https://purl.imsglobal.org/spec/lti/claim/roles"];
  EXPECT_NE(std::find(roles.begin(), roles.end(), "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"),
            roles.end());
  const json& ags = c["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"];
  EXPECT_EQ(ags["lineitems"], "http://sim.test/sim/api/lti/courses/1001/line_items");
  EXPECT_FALSE(ags.contains("lineitem")) << "rl-essay has no line item";
}

TEST_F(IdTokenTest, TeachingAssistantRole) {
  Tool tool = Register(Profile::kGeneric);
  auto jws = Issue(tool, "ta1");
  json roles = (*jws.payload)["https://purl.imsglobal.org/spec/lti/claim/roles"];
  EXPECT_EQ(roles, json::array({"http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"}));
  EXPECT_EQ((*jws.payload)["exp"].get<int64_t>() - (*jws.payload)["iat"].get<int64_t>(), 300);
}

TEST_F(IdTokenTest, DeepLinkingRequest) {
  Tool tool = Register(Profile::kMoodle);
  auto jws = Issue(tool, "instructor", {}, "", lti::kMsgDeepLinkingRequest);
  EXPECT_TRUE(Verifies(jws));
  const json& c = *jws.payload;
  EXPECT_EQ(c["https://purl.imsglobal.org/spec/lti/claim/message_type"], "LtiDeepLinkingRequest");
  EXPECT_FALSE(c.contains("https://purl.imsglobal.org/spec/lti/claim/resource_link"));
  const json& dl = c["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"];
  EXPECT_EQ(dl["deep_link_return_url"], "http://sim.test/sim/deep_link_return");
  EXPECT_EQ(dl["accept_types"], json::array({"ltiResourceLink"}));
  EXPECT_TRUE(dl["accept_presentation_document_targets"].is_array());
  EXPECT_FALSE(c["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"].contains("lineitem"));
}

TEST_F(IdTokenTest, UnknownInputsAreErrors) {
  Tool tool = Register(Profile::kMoodle);
  EXPECT_FALSE(platform_->BuildIdToken({"nope", "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}}, "n").ok());
  EXPECT_FALSE(platform_->BuildIdToken({tool.client_id, "x", "rl-quiz-1", lti::kMsgResourceLink, {}}, "n").ok());
  EXPECT_FALSE(platform_->BuildIdToken({tool.client_id, "learner1", "x", lti::kMsgResourceLink, {}}, "n").ok());
}

TEST(Mutations, ParseAndJoin) {
  auto m = ParseMutations(" no_kid, ,expired,");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::vector<Mutation>{Mutation::kNoKid, Mutation::kExpired}));
  EXPECT_EQ(JoinMutations(*m), "no_kid,expired");
  auto bad = ParseMutations("no_kid,nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "sim.unknown_mutation");
  EXPECT_TRUE(ParseMutations("")->empty());
  std::set<std::string_view> names;
  for (const auto& info : AllMutations()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(InfoFor(info.mutation).name, info.name);
  }
}

// Each mutation, with a check of its intended effect. Every mutation must be listed here.
TEST_F(IdTokenTest, EachMutationHasItsEffect) {
  Tool tool = Register(Profile::kMoodle);
  const auto base = Issue(tool);
  const json& b = *base.payload;
  const std::string roles_uri = lti::kClaimRoles;
  using Check = std::function<void(const jose::CompactJws&, const json& h, const json& c)>;
  const std::map<std::string_view, Check> checks = {
      {"no_kid", [&](auto& t, auto& h, auto&) { EXPECT_FALSE(h.contains("kid")); EXPECT_TRUE(jose::VerifyRs256(t, platform_->public_key()).ok()); }},
      {"unknown_kid", [&](auto& t, auto& h, auto&) {
         EXPECT_EQ(jwks_.Find(h["kid"].template get<std::string>()), nullptr);
         EXPECT_TRUE(jose::VerifyRs256(t, platform_->public_key()).ok()); }},
      {"wrong_kid_key", [&](auto& t, auto& h, auto&) {
         EXPECT_EQ(h["kid"], platform_->second_kid());
         EXPECT_FALSE(Verifies(t)) << "the named key does not verify";
         EXPECT_TRUE(jose::VerifyRs256(t, platform_->public_key()).ok()); }},
      {"bad_signature", [&](auto& t, auto& h, auto&) {
         EXPECT_EQ(h["kid"], platform_->kid());
         EXPECT_EQ(t.signature.size(), base.signature.size());
         EXPECT_FALSE(Verifies(t)); }},
      {"alg_none", [&](auto& t, auto& h, auto&) { EXPECT_EQ(h["alg"], "none"); EXPECT_TRUE(t.signature.empty()); EXPECT_FALSE(Verifies(t)); }},
      {"alg_hs256", [&](auto& t, auto& h, auto&) {
         EXPECT_EQ(h["alg"], "HS256");
         EXPECT_EQ(t.signature, jose::HmacSha256(platform_->public_key().ToPem(), t.SigningInput()));
         EXPECT_FALSE(Verifies(t)); }},
      {"alg_rs512", [&](auto& t, auto& h, auto&) {
         EXPECT_EQ(h["alg"], "RS512");
         EXPECT_FALSE(jose::VerifyRs256(t, platform_->public_key()).ok()) << "VerifyRs256 must refuse the alg"; }},
      {"wrong_iss", [&](auto& t, auto&, auto& c) { EXPECT_NE(c["iss"], b["iss"]); EXPECT_TRUE(Verifies(t)); }},
      {"wrong_aud", [&](auto&, auto&, auto& c) { EXPECT_NE(c["aud"], tool.client_id); EXPECT_TRUE(c["aud"].is_string()); }},
      {"aud_array_with_azp", [&](auto&, auto&, auto& c) {
         EXPECT_EQ(c["aud"], json::array({tool.client_id, "other-audience"}));
         EXPECT_EQ(c["azp"], tool.client_id); }},
      {"aud_array_no_azp", [&](auto&, auto&, auto& c) {
         EXPECT_EQ(c["aud"], json::array({tool.client_id, "other-audience"}));
         EXPECT_FALSE(c.contains("azp")); }},
      {"azp_mismatch", [&](auto&, auto&, auto& c) { EXPECT_EQ(c["aud"], tool.client_id); EXPECT_NE(c["azp"], tool.client_id); EXPECT_TRUE(c["azp"].is_string()); }},
      {"expired", [&](auto&, auto&, auto& c) { EXPECT_EQ(c["exp"], kNow - 300); EXPECT_LT(c["iat"].template get<int64_t>(), c["exp"].template get<int64_t>()); }},
      {"no_exp", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains("exp")); EXPECT_TRUE(c.contains("iat")); }},
      {"no_iat", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains("iat")); EXPECT_TRUE(c.contains("exp")); }},
      {"iat_future", [&](auto&, auto&, auto& c) { EXPECT_EQ(c["iat"], kNow + 600); EXPECT_GT(c["exp"].template get<int64_t>(), kNow + 600); }},
      {"exp_string", [&](auto&, auto&, auto& c) { EXPECT_EQ(c["exp"], std::to_string(kNow + 60)); }},
      {"clock_skew_small", [&](auto& t, auto&, auto& c) { EXPECT_EQ(c["iat"], kNow + 20); EXPECT_EQ(c["exp"], kNow + 80); EXPECT_TRUE(Verifies(t)); }},
      {"no_nonce", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains("nonce")); }},
      {"wrong_nonce", [&](auto&, auto&, auto& c) { EXPECT_NE(c["nonce"], "the-nonce"); EXPECT_TRUE(c["nonce"].is_string()); }},
      {"no_version", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains(lti::kClaimVersion)); }},
      {"wrong_version", [&](auto&, auto&, auto& c) { EXPECT_EQ(c[lti::kClaimVersion], "1.1.0"); }},
      {"no_message_type", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains(lti::kClaimMessageType)); }},
      {"unknown_message_type", [&](auto&, auto&, auto& c) { EXPECT_EQ(c[lti::kClaimMessageType], "LtiUnknownMessageRequest"); }},
      {"no_deployment_id", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains(lti::kClaimDeploymentId)); }},
      {"unknown_deployment_id", [&](auto&, auto&, auto& c) {
         EXPECT_TRUE(c[lti::kClaimDeploymentId].is_string());
         EXPECT_NE(c[lti::kClaimDeploymentId], tool.deployment_id); }},
      {"no_roles", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains(roles_uri)); }},
      {"empty_roles", [&](auto&, auto&, auto& c) { EXPECT_EQ(c[roles_uri], json::array()); }},
      {"short_roles", [&](auto&, auto&, auto& c) { EXPECT_EQ(c[roles_uri], json::array({"Learner"})); }},
      {"unknown_role", [&](auto&, auto&, auto& c) {
         EXPECT_EQ(c[roles_uri].size(), b[roles_uri].size() + 1);
         EXPECT_EQ(c[roles_uri][0], b[roles_uri][0]); }},
      {"no_resource_link", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains(lti::kClaimResourceLink)); }},
      {"no_resource_link_id", [&](auto&, auto&, auto& c) {
         EXPECT_FALSE(c[lti::kClaimResourceLink].contains("id"));
         EXPECT_EQ(c[lti::kClaimResourceLink]["title"], "Quiz 1"); }},
      {"no_sub", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains("sub")); EXPECT_TRUE(c.contains("email")); }},
      {"no_target_link_uri", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains(lti::kClaimTargetLinkUri)); }},
      {"no_context", [&](auto& t, auto&, auto& c) {
         EXPECT_FALSE(c.contains(lti::kClaimContext));
         EXPECT_TRUE(c.contains("email"));
         EXPECT_TRUE(Verifies(t)); }},
      {"no_pii", [&](auto&, auto&, auto& c) {
         for (const char* k : {"name", "given_name", "family_name", "email"}) EXPECT_FALSE(c.contains(k)) << k;
         EXPECT_EQ(c["sub"], "learner1"); }},
      {"email_only", [&](auto&, auto&, auto& c) { EXPECT_FALSE(c.contains("name")); EXPECT_FALSE(c.contains("given_name")); EXPECT_TRUE(c.contains("email")); }},
      {"names_only", [&](auto&, auto&, auto& c) { EXPECT_TRUE(c.contains("name")); EXPECT_FALSE(c.contains("email")); }},
      {"unknown_claims", [&](auto& t, auto&, auto& c) {
         EXPECT_TRUE(c.contains("https://sim.gradebridge.example/claim/unknown"));
         EXPECT_TRUE(c[lti::kClaimContext].contains("x_sim_unknown"));
         EXPECT_TRUE(Verifies(t)); }},
  };
  for (const auto& info : AllMutations()) {
    SCOPED_TRACE(std::string(info.name));
    auto it = checks.find(info.name);
    ASSERT_NE(it, checks.end()) << "no check for mutation " << info.name;
    auto t = Issue(tool, "learner1", {info.mutation});
    ASSERT_TRUE(t.header && t.payload);
    it->second(t, *t.header, *t.payload);
    // Claims a mutation does not touch stay as in the base token.
    if (info.name != "wrong_iss") {
      EXPECT_EQ((*t.payload)["iss"], b["iss"]);
    }
    if (info.name != "no_nonce" && info.name != "wrong_nonce") {
      EXPECT_EQ((*t.payload)["nonce"], "the-nonce");
    }
    // Only header/signature mutations fail verification with the published kid.
    bool jose_level = info.name == "no_kid" || info.name == "unknown_kid" || info.name == "wrong_kid_key" ||
                      info.name == "bad_signature" || info.name.starts_with("alg_");
    EXPECT_EQ(Verifies(t), !jose_level);
  }
  EXPECT_EQ(checks.size(), AllMutations().size());
}

TEST_F(IdTokenTest, MutationsCombine) {
  Tool tool = Register(Profile::kCanvas);
  auto t = Issue(tool, "instructor", {Mutation::kNoKid, Mutation::kExpired, Mutation::kShortRoles});
  EXPECT_FALSE(t.header->contains("kid"));
  EXPECT_EQ((*t.payload)["exp"], kNow - 300);
  EXPECT_EQ((*t.payload)[lti::kClaimRoles], json::array({"Instructor"}));
}

}  // namespace
}  // namespace gb::sim
