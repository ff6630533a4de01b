// What the tool tells a platform about itself when an administrator registers it: the URLs the
// platform calls (OIDC login, launch redirect, JWKS), the services it asks for, and how it wants
// to be placed. One description feeds every registration path: the Canvas developer-key JSON
// served at /lti/canvas.json today, and the Dynamic Registration tool configuration.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace gb::lti {

struct ToolDescription {
  std::string title = "gradebridge";
  std::string description = "Grades from your learning tool, synced to the gradebook.";
  std::string public_url;  // https://tool.example (no trailing slash): every URL below hangs off it
  // Canvas's privacy_level: anonymous | name_only | email_only | public. Decides which user
  // fields (name, email) Canvas puts in launches and rosters.
  std::string canvas_privacy_level = "name_only";
  std::map<std::string, std::string> custom_fields;  // name -> value or $Substitution.variable

  std::string LoginUrl() const { return public_url + "/lti/login"; }
  std::string LaunchUrl() const { return public_url + "/lti/launch"; }  // the redirect URI
  std::string JwksUrl() const { return public_url + "/.well-known/jwks.json"; }
};

// The scopes gradebridge asks every platform for: AGS line items (read/write), results, scores,
// and NRPS memberships.
const std::vector<std::string>& ToolScopes();

// kInvalidArgument "config.bad_privacy_level" unless one of Canvas's four values.
Status ValidateCanvasPrivacyLevel(std::string_view level);

// The JSON an administrator pastes into (or points) a Canvas LTI 1.3 developer key at
// (platforms.md A9): title, description, oidc_initiation_url, target_link_uri, public_jwk_url,
// scopes, custom_fields, and one canvas.instructure.com extension with the privacy level and the
// link_selection and assignment_selection placements, both deep linking.
nlohmann::json CanvasDeveloperKeyJson(const ToolDescription& tool);

}  // namespace gb::lti
