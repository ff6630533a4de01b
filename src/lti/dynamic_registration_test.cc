#include "lti/dynamic_registration.h"

#include <gtest/gtest.h>

#include "lti/claims.h"

namespace gb::lti {
namespace {

using nlohmann::json;

json MoodleConfiguration() {
  // Shaped like Moodle 4.x's /mod/lti/openid-configuration.php, messages as strings.
  return {{"issuer", "https://moodle.school.edu"},
          {"token_endpoint", "https://moodle.school.edu/mod/lti/token.php"},
          {"token_endpoint_auth_methods_supported", {"private_key_jwt"}},
          {"token_endpoint_auth_signing_alg_values_supported", {"RS256"}},
          {"jwks_uri", "https://moodle.school.edu/mod/lti/certs.php"},
          {"authorization_endpoint", "https://moodle.school.edu/mod/lti/auth.php"},
          {"registration_endpoint", "https://moodle.school.edu/mod/lti/openid-registration.php"},
          {"scopes_supported",
           {kScopeLineItem, kScopeLineItemReadOnly, kScopeResultReadOnly, kScopeScore, "openid"}},
          {"response_types_supported", {"id_token"}},
          {"id_token_signing_alg_values_supported", {"RS256"}},
          {"https://purl.imsglobal.org/spec/lti-platform-configuration",
           {{"product_family_code", "moodle"},
            {"version", "4.5"},
            {"messages_supported", {"LtiResourceLink", "LtiDeepLinkingRequest"}}}}};
}

constexpr char kConfigUrl[] = "https://moodle.school.edu/mod/lti/openid-configuration.php?registration_token=x";

TEST(DynamicRegistrationTest, ReadsAMoodleConfiguration) {
  auto c = ParsePlatformConfiguration(MoodleConfiguration().dump(), kConfigUrl, false);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->issuer, "https://moodle.school.edu");
  EXPECT_EQ(c->token_endpoint, "https://moodle.school.edu/mod/lti/token.php");
  EXPECT_EQ(c->registration_endpoint, "https://moodle.school.edu/mod/lti/openid-registration.php");
  EXPECT_EQ(c->product_family_code, "moodle");
  EXPECT_EQ(FamilyFromProductCode(c->product_family_code), PlatformFamily::kMoodle);
  EXPECT_EQ(c->messages_supported, (std::vector<std::string>{"LtiResourceLink", "LtiDeepLinkingRequest"}));
}

TEST(DynamicRegistrationTest, MessagesAsObjectsAreReadToo) {
  json doc = MoodleConfiguration();
  doc["https://purl.imsglobal.org/spec/lti-platform-configuration"]["messages_supported"] =
      json::array({{{"type", "LtiResourceLinkRequest"}, {"placements", {"course_navigation"}}}});
  auto c = ParsePlatformConfiguration(doc.dump(), kConfigUrl, false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->messages_supported, (std::vector<std::string>{"LtiResourceLinkRequest"}));
}

TEST(DynamicRegistrationTest, RefusesConfigurationsThatCannotBeTrusted) {
  struct Case {
    const char* what;
    std::function<void(json&)> spoil;
    const char* url;
    const char* reason;
  };
  const Case cases[] = {
      {"issuer on another host", [](json& d) { d["issuer"] = "https://evil.example"; }, kConfigUrl,
       "registration.issuer_mismatch"},
      {"fetched from another host", [](json&) {}, "https://evil.example/openid-configuration",
       "registration.issuer_mismatch"},
      {"http issuer", [](json& d) { d["issuer"] = "http://moodle.school.edu"; }, kConfigUrl,
       "registration.insecure_configuration"},
      {"issuer with query", [](json& d) { d["issuer"] = "https://moodle.school.edu/?x=1"; }, kConfigUrl,
       "registration.bad_configuration"},
      {"no registration endpoint", [](json& d) { d.erase("registration_endpoint"); }, kConfigUrl,
       "registration.bad_configuration"},
      {"jwks not a url", [](json& d) { d["jwks_uri"] = "certs"; }, kConfigUrl, "registration.bad_configuration"},
      {"no private_key_jwt", [](json& d) { d["token_endpoint_auth_methods_supported"] = {"client_secret_basic"}; },
       kConfigUrl, "registration.unsupported_platform"},
      {"no RS256", [](json& d) { d["id_token_signing_alg_values_supported"] = {"HS256"}; }, kConfigUrl,
       "registration.unsupported_platform"},
  };
  for (const auto& c : cases) {
    json doc = MoodleConfiguration();
    c.spoil(doc);
    auto parsed = ParsePlatformConfiguration(doc.dump(), c.url, false);
    ASSERT_FALSE(parsed.ok()) << c.what;
    EXPECT_EQ(parsed.status().reason(), c.reason) << c.what << ": " << parsed.status().message();
  }
  EXPECT_EQ(ParsePlatformConfiguration("[1,2]", kConfigUrl, false).status().reason(), "registration.bad_configuration");
  EXPECT_EQ(ParsePlatformConfiguration("{", kConfigUrl, false).status().reason(), "registration.bad_configuration");
  EXPECT_EQ(ParsePlatformConfiguration(std::string(300 * 1024, ' '), kConfigUrl, false).status().reason(),
            "registration.bad_configuration");
  // Local development (dev_mode) allows http.
  json local = MoodleConfiguration();
  for (const char* k : {"issuer", "token_endpoint", "jwks_uri", "authorization_endpoint", "registration_endpoint"}) {
    std::string v = local[k];
    local[k] = "http://127.0.0.1:8080" + v.substr(std::string("https://moodle.school.edu").size());
  }
  EXPECT_TRUE(ParsePlatformConfiguration(local.dump(), "http://127.0.0.1:8080/mod/lti/openid-configuration.php", true).ok());
}

TEST(DynamicRegistrationTest, RequestAsksForWhatThePlatformOffers) {
  auto platform = ParsePlatformConfiguration(MoodleConfiguration().dump(), kConfigUrl, false);
  ASSERT_TRUE(platform.ok());
  ToolDescription tool;
  tool.public_url = "https://tool.example.org";
  json req = ToolRegistrationRequest(tool, *platform);
  EXPECT_EQ(req["application_type"], "web");
  EXPECT_EQ(req["grant_types"], json({"client_credentials", "implicit"}));
  EXPECT_EQ(req["response_types"], json({"id_token"}));
  EXPECT_EQ(req["redirect_uris"], json({"https://tool.example.org/lti/launch"}));
  EXPECT_EQ(req["initiate_login_uri"], "https://tool.example.org/lti/login");
  EXPECT_EQ(req["jwks_uri"], "https://tool.example.org/.well-known/jwks.json");
  EXPECT_EQ(req["token_endpoint_auth_method"], "private_key_jwt");
  // Moodle offers no NRPS scope here, so none is asked for; space-separated.
  EXPECT_EQ(req["scope"], std::string(kScopeLineItem) + " " + kScopeLineItemReadOnly + " " + kScopeResultReadOnly +
                              " " + kScopeScore);
  const json& tc = req["https://purl.imsglobal.org/spec/lti-tool-configuration"];
  EXPECT_EQ(tc["domain"], "tool.example.org");
  EXPECT_EQ(tc["target_link_uri"], "https://tool.example.org/lti/launch");
  ASSERT_EQ(tc["messages"].size(), 2u);  // "LtiResourceLink" counts as resource-link support
  EXPECT_EQ(tc["messages"][0]["type"], kMsgResourceLink);
  EXPECT_EQ(tc["messages"][1]["type"], kMsgDeepLinkingRequest);
  EXPECT_FALSE(tc.contains("https://canvas.instructure.com/lti/privacy_level"));
  EXPECT_NE(std::find(tc["claims"].begin(), tc["claims"].end(), "sub"), tc["claims"].end());

  // Canvas gets its privacy level; a platform that lists only resource links gets only those.
  PlatformConfiguration canvas = *platform;
  canvas.product_family_code = "canvas";
  canvas.messages_supported = {kMsgResourceLink};
  canvas.scopes_supported.clear();  // not advertised: ask for everything
  json creq = ToolRegistrationRequest(tool, canvas);
  const json& ctc = creq["https://purl.imsglobal.org/spec/lti-tool-configuration"];
  EXPECT_EQ(ctc["https://canvas.instructure.com/lti/privacy_level"], "name_only");
  EXPECT_EQ(ctc["messages"].size(), 1u);
  EXPECT_NE(creq["scope"].get<std::string>().find(kScopeNrps), std::string::npos);
}

TEST(DynamicRegistrationTest, ReadsTheRegistrationAnswer) {
  auto ok = ParseRegistrationResponse(R"({"client_id":"abc123","application_type":["web"],
      "scope":"https://purl.imsglobal.org/spec/lti-ags/scope/score",
      "https://purl.imsglobal.org/spec/lti-tool-configuration":{"deployment_id":"7"}})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->client_id, "abc123");
  EXPECT_EQ(ok->deployment_id, "7");
  EXPECT_EQ(ok->scope, "https://purl.imsglobal.org/spec/lti-ags/scope/score");
  auto numeric = ParseRegistrationResponse(
      R"({"client_id":"x","https://purl.imsglobal.org/spec/lti-tool-configuration":{"deployment_id":12}})");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->deployment_id, "12");
  for (const char* bad : {"", "[]", R"({"client_id":""})", R"({"client_id":5})", R"({"error":"invalid_client_metadata"})"}) {
    EXPECT_EQ(ParseRegistrationResponse(bad).status().reason(), "registration.bad_response") << bad;
  }
}

TEST(DynamicRegistrationTest, ProductFamilyCodes) {
  EXPECT_EQ(FamilyFromProductCode("canvas"), PlatformFamily::kCanvas);
  EXPECT_EQ(FamilyFromProductCode("desire2learn"), PlatformFamily::kBrightspace);
  EXPECT_EQ(FamilyFromProductCode("sakai"), PlatformFamily::kSakai);
  EXPECT_EQ(FamilyFromProductCode("something-new"), PlatformFamily::kGeneric);
}

}  // namespace
}  // namespace gb::lti
