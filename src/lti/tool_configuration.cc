#include "lti/tool_configuration.h"

#include "base/url.h"
#include "lti/claims.h"

namespace gb::lti {

const std::vector<std::string>& ToolScopes() {
  static const std::vector<std::string> scopes = {kScopeLineItem, kScopeLineItemReadOnly, kScopeResultReadOnly,
                                                  kScopeScore, kScopeNrps};
  return scopes;
}

Status ValidateCanvasPrivacyLevel(std::string_view level) {
  for (std::string_view ok : {"anonymous", "name_only", "email_only", "public"}) {
    if (level == ok) return Status::Ok();
  }
  return Error(Code::kInvalidArgument, "config.bad_privacy_level",
               "canvas_privacy_level must be anonymous, name_only, email_only or public, not \"" +
                   std::string(level) + "\".");
}

nlohmann::json CanvasDeveloperKeyJson(const ToolDescription& tool) {
  using nlohmann::json;
  std::string domain;
  if (auto url = Url::Parse(tool.public_url); url.ok()) domain = url->host;
  // Instructors add gradebridge from a module (link_selection) or as an assignment's external
  // tool (assignment_selection); both go through deep linking, so the column is created with the
  // right points.
  json placements = json::array();
  for (const char* placement : {"link_selection", "assignment_selection"}) {
    placements.push_back({{"placement", placement},
                          {"message_type", kMsgDeepLinkingRequest},
                          {"target_link_uri", tool.LaunchUrl()},
                          {"text", tool.title}});
  }
  json custom = json::object();
  for (const auto& [name, value] : tool.custom_fields) custom[name] = value;
  return {
      {"title", tool.title},
      {"description", tool.description},
      {"oidc_initiation_url", tool.LoginUrl()},
      {"target_link_uri", tool.LaunchUrl()},
      {"public_jwk_url", tool.JwksUrl()},
      {"scopes", ToolScopes()},
      {"custom_fields", custom},
      {"extensions",
       json::array({{{"platform", "canvas.instructure.com"},
                     {"domain", domain},
                     {"privacy_level", tool.canvas_privacy_level},
                     {"settings", {{"text", tool.title}, {"placements", placements}}}}})},
  };
}

}  // namespace gb::lti
