#include "lti/tool_configuration.h"

#include <gtest/gtest.h>

#include "lti/claims.h"

namespace gb::lti {
namespace {

TEST(ToolConfigurationTest, CanvasJsonNamesEveryUrlCanvasRequires) {
  ToolDescription tool;
  tool.title = "Quiz Engine";
  tool.description = "Quizzes with grade sync";
  tool.public_url = "https://tool.example.edu";
  tool.custom_fields = {{"canvas_course_id", "$Canvas.course.id"}};
  nlohmann::json j = CanvasDeveloperKeyJson(tool);

  // platforms.md A9: required top-level keys.
  EXPECT_EQ(j["title"], "Quiz Engine");
  EXPECT_EQ(j["description"], "Quizzes with grade sync");
  EXPECT_EQ(j["oidc_initiation_url"], "https://tool.example.edu/lti/login");
  EXPECT_EQ(j["target_link_uri"], "https://tool.example.edu/lti/launch");
  EXPECT_EQ(j["public_jwk_url"], "https://tool.example.edu/.well-known/jwks.json");
  EXPECT_FALSE(j.contains("public_jwk"));  // the URL, so key rotation needs no re-paste
  EXPECT_EQ(j["custom_fields"]["canvas_course_id"], "$Canvas.course.id");

  std::vector<std::string> scopes = j["scopes"];
  for (const char* s : {kScopeLineItem, kScopeLineItemReadOnly, kScopeResultReadOnly, kScopeScore, kScopeNrps}) {
    EXPECT_NE(std::find(scopes.begin(), scopes.end(), s), scopes.end()) << s;
  }

  ASSERT_EQ(j["extensions"].size(), 1u);
  const auto& ext = j["extensions"][0];
  EXPECT_EQ(ext["platform"], "canvas.instructure.com");
  EXPECT_EQ(ext["domain"], "tool.example.edu");
  EXPECT_EQ(ext["privacy_level"], "name_only");
  std::vector<std::string> names;
  for (const auto& p : ext["settings"]["placements"]) {
    names.push_back(p["placement"]);
    EXPECT_EQ(p["message_type"], kMsgDeepLinkingRequest);
    EXPECT_EQ(p["target_link_uri"], "https://tool.example.edu/lti/launch");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"link_selection", "assignment_selection"}));
}

TEST(ToolConfigurationTest, PrivacyLevelIsOneOfCanvassFour) {
  for (const char* ok : {"anonymous", "name_only", "email_only", "public"}) {
    EXPECT_TRUE(ValidateCanvasPrivacyLevel(ok).ok()) << ok;
  }
  EXPECT_EQ(ValidateCanvasPrivacyLevel("everything").reason(), "config.bad_privacy_level");
  EXPECT_EQ(ValidateCanvasPrivacyLevel("").reason(), "config.bad_privacy_level");
}

}  // namespace
}  // namespace gb::lti
