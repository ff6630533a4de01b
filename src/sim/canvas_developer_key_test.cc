#include "sim/canvas_developer_key.h"

#include <gtest/gtest.h>

namespace gb::sim {
namespace {

using nlohmann::json;

json GoodConfig() {
  return json::parse(R"({
    "title": "Quiz Engine", "description": "Quizzes",
    "oidc_initiation_url": "https://tool.example/lti/login",
    "target_link_uri": "https://tool.example/lti/launch",
    "public_jwk_url": "https://tool.example/.well-known/jwks.json",
    "scopes": ["https://purl.imsglobal.org/spec/lti-ags/scope/score",
               "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],
    "custom_fields": {"course": "$Canvas.course.id"},
    "extensions": [{"platform": "canvas.instructure.com", "privacy_level": "name_only",
                    "settings": {"placements": [
                      {"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                       "target_link_uri": "https://tool.example/lti/launch?dl=1"}]}}]
  })");
}

const std::vector<std::string> kRedirects = {"https://tool.example/lti/launch"};

TEST(CanvasDeveloperKeyTest, AGoodConfigurationBecomesACanvasTool) {
  auto spec = ToolSpecFromCanvasDeveloperKey(GoodConfig(), kRedirects);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->profile, Profile::kCanvas);
  EXPECT_EQ(spec->name, "Quiz Engine");
  EXPECT_EQ(spec->login_url, "https://tool.example/lti/login");
  EXPECT_EQ(spec->target_link_uri, "https://tool.example/lti/launch");
  EXPECT_EQ(spec->jwks_url, "https://tool.example/.well-known/jwks.json");
  EXPECT_EQ(spec->deep_link_url, "https://tool.example/lti/launch?dl=1");
  EXPECT_EQ(spec->redirect_uris, kRedirects);
  EXPECT_EQ(spec->custom.at("course"), "$Canvas.course.id");
}

TEST(CanvasDeveloperKeyTest, CanvasRefusesWhatItWouldRefuse) {
  struct Case {
    const char* what;
    std::function<void(json&)> spoil;
    const char* says;
  };
  const Case cases[] = {
      {"no title", [](json& c) { c.erase("title"); }, "title is required"},
      {"no description", [](json& c) { c["description"] = ""; }, "description is required"},
      {"no login url", [](json& c) { c.erase("oidc_initiation_url"); }, "oidc_initiation_url is required"},
      {"bad target", [](json& c) { c["target_link_uri"] = "not a url"; }, "target_link_uri"},
      {"no key", [](json& c) { c.erase("public_jwk_url"); }, "public_jwk_url or public_jwk is required"},
      {"jwk without alg",
       [](json& c) {
         c.erase("public_jwk_url");
         c["public_jwk"] = {{"kty", "RSA"}, {"kid", "k"}, {"use", "sig"}};
       },
       "kid, alg and use"},
      {"foreign scope", [](json& c) { c["scopes"].push_back("https://example.com/scope/everything"); }, "scope not allowed"},
      {"numeric custom field", [](json& c) { c["custom_fields"]["n"] = 3; }, "must be a string"},
      {"other platform", [](json& c) { c["extensions"][0]["platform"] = "moodle"; }, "canvas.instructure.com"},
      {"bad privacy", [](json& c) { c["extensions"][0]["privacy_level"] = "all"; }, "privacy_level"},
      {"bad message type",
       [](json& c) { c["extensions"][0]["settings"]["placements"][0]["message_type"] = "LtiStartProctoring"; },
       "message_type"},
  };
  for (const auto& c : cases) {
    json config = GoodConfig();
    c.spoil(config);
    auto spec = ToolSpecFromCanvasDeveloperKey(config, kRedirects);
    ASSERT_FALSE(spec.ok()) << c.what;
    EXPECT_EQ(spec.status().reason(), "sim.bad_developer_key") << c.what;
    EXPECT_NE(spec.status().message().find(c.says), std::string::npos) << c.what << ": " << spec.status().message();
  }
  EXPECT_FALSE(ToolSpecFromCanvasDeveloperKey(GoodConfig(), {}).ok());  // redirect URIs are required
  EXPECT_FALSE(ToolSpecFromCanvasDeveloperKey(json::array(), kRedirects).ok());
}

}  // namespace
}  // namespace gb::sim
