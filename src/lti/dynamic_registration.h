// LTI Dynamic Registration 1.0 (lti-digest §6), the protocol half: reading a platform's OpenID
// configuration, building the tool's client registration request, and reading the platform's
// answer. No I/O here: the caller fetches and posts (with the registration token as Bearer) and
// stores the resulting registration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "lti/registration.h"
#include "lti/tool_configuration.h"

namespace gb::lti {

struct PlatformConfiguration {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string registration_endpoint;
  std::string authorization_server;  // client-assertion aud when set; else token_endpoint
  std::string product_family_code;   // "canvas", "moodle", "desire2learn", … ("" if not sent)
  std::vector<std::string> scopes_supported;    // empty: not advertised
  std::vector<std::string> messages_supported;  // message types; empty: not advertised
};

// Parses and checks the configuration fetched from `configuration_url`. Every failure is
// kInvalidArgument with its own reason:
//   registration.bad_configuration  not a JSON object, a required field missing or not a URL
//                                   (issuer, authorization_endpoint, token_endpoint, jwks_uri,
//                                   registration_endpoint), or an issuer with a query/fragment;
//   registration.insecure_configuration  an http:// URL when !allow_http;
//   registration.issuer_mismatch    the issuer's host is not the configuration URL's host (DR
//                                   §3.5.1: a configuration cannot speak for another platform);
//   registration.unsupported_platform  it lists token auth methods without private_key_jwt, or
//                                   id_token algorithms without RS256.
// `messages_supported` is read in both shapes seen in the field: objects with "type" (the spec)
// and bare strings (older Moodle). Unknown keys are ignored.
Result<PlatformConfiguration> ParsePlatformConfiguration(std::string_view body, std::string_view configuration_url,
                                                         bool allow_http);

// The client registration request body (lti-digest §6.3) for this tool: web application,
// client_credentials + implicit grants, id_token responses, the exact redirect URI, the login URL,
// the JWKS URL, private_key_jwt, the scopes the tool wants that the platform offers (all of them
// when it does not say), and the LTI tool configuration with resource-link and deep-linking
// messages (only those the platform supports, when it says), the identity claims wanted, and the
// Canvas privacy level for Canvas.
nlohmann::json ToolRegistrationRequest(const ToolDescription& tool, const PlatformConfiguration& platform);

struct RegistrationResponse {
  std::string client_id;
  std::string deployment_id;  // "" when the platform made none with the registration
  std::string scope;          // space-separated scopes granted ("" if not echoed)
};

// kInvalidArgument "registration.bad_response" unless a JSON object with a non-empty string
// client_id. Tolerant of type sloppiness elsewhere (Moodle echoes arrays where strings belong).
Result<RegistrationResponse> ParseRegistrationResponse(std::string_view body);

// product_family_code -> our family ("desire2learn" is Brightspace); generic when unknown.
PlatformFamily FamilyFromProductCode(std::string_view code);

}  // namespace gb::lti
