#include "lti/dynamic_registration.h"

#include <algorithm>

#include "base/url.h"
#include "lti/claims.h"

namespace gb::lti {
namespace {

using nlohmann::json;

constexpr size_t kMaxDocumentBytes = 256 * 1024;
constexpr char kPlatformConfigurationKey[] = "https://purl.imsglobal.org/spec/lti-platform-configuration";
constexpr char kToolConfigurationKey[] = "https://purl.imsglobal.org/spec/lti-tool-configuration";

Status Invalid(std::string reason, std::string message) {
  return Error(Code::kInvalidArgument, std::move(reason), std::move(message));
}

std::vector<std::string> StringsIn(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

Result<PlatformConfiguration> ParsePlatformConfiguration(std::string_view body, std::string_view configuration_url,
                                                         bool allow_http) {
  if (body.size() > kMaxDocumentBytes) {
    return Invalid("registration.bad_configuration", "The platform configuration is larger than 256 KiB.");
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Invalid("registration.bad_configuration", "The platform configuration is not a JSON object.");
  }
  auto config_url = Url::Parse(configuration_url);
  if (!config_url.ok()) {
    return Invalid("registration.bad_configuration", "openid_configuration is not a URL: " + config_url.status().message());
  }

  PlatformConfiguration out;
  auto url_field = [&](const char* key, std::string& into) -> Status {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Invalid("registration.bad_configuration", std::string("The platform configuration has no ") + key + ".");
    }
    auto url = Url::Parse(it->get<std::string>());
    if (!url.ok()) {
      return Invalid("registration.bad_configuration", std::string(key) + " is not a URL: " + url.status().message());
    }
    if (url->scheme != "https" && !allow_http) {
      return Invalid("registration.insecure_configuration", std::string(key) + " must be https://.");
    }
    into = it->get<std::string>();
    return Status::Ok();
  };
  GB_RETURN_IF_ERROR(url_field("issuer", out.issuer));
  GB_RETURN_IF_ERROR(url_field("authorization_endpoint", out.authorization_endpoint));
  GB_RETURN_IF_ERROR(url_field("token_endpoint", out.token_endpoint));
  GB_RETURN_IF_ERROR(url_field("jwks_uri", out.jwks_uri));
  GB_RETURN_IF_ERROR(url_field("registration_endpoint", out.registration_endpoint));
  if (doc.contains("authorization_server")) {
    if (doc["authorization_server"].is_string()) out.authorization_server = doc["authorization_server"].get<std::string>();
  }

  auto issuer = Url::Parse(out.issuer);
  if (!issuer->query.empty() || !issuer->fragment.empty()) {
    return Invalid("registration.bad_configuration", "The issuer must not have a query or fragment.");
  }
  if (issuer->host != config_url->host) {
    return Invalid("registration.issuer_mismatch",
                   "The configuration's issuer (" + issuer->host + ") is not on the host it was fetched from (" +
                       config_url->host + "); a platform configuration cannot speak for another platform.");
  }

  auto auth_methods = StringsIn(doc, "token_endpoint_auth_methods_supported");
  if (!auth_methods.empty() && !Contains(auth_methods, "private_key_jwt")) {
    return Invalid("registration.unsupported_platform",
                   "The platform's token endpoint does not accept private_key_jwt client assertions.");
  }
  auto id_token_algs = StringsIn(doc, "id_token_signing_alg_values_supported");
  if (!id_token_algs.empty() && !Contains(id_token_algs, "RS256")) {
    return Invalid("registration.unsupported_platform", "The platform does not sign id_tokens with RS256.");
  }
  out.scopes_supported = StringsIn(doc, "scopes_supported");

  if (auto lti = doc.find(kPlatformConfigurationKey); lti != doc.end() && lti->is_object()) {
    if (auto code = lti->find("product_family_code"); code != lti->end() && code->is_string()) {
      out.product_family_code = code->get<std::string>();
    }
    if (auto messages = lti->find("messages_supported"); messages != lti->end() && messages->is_array()) {
      for (const auto& m : *messages) {
        if (m.is_string()) {
          out.messages_supported.push_back(m.get<std::string>());
        } else if (m.is_object() && m.contains("type") && m["type"].is_string()) {
          out.messages_supported.push_back(m["type"].get<std::string>());
        }
      }
    }
  }
  return out;
}

nlohmann::json ToolRegistrationRequest(const ToolDescription& tool, const PlatformConfiguration& platform) {
  std::string scope;
  for (const std::string& s : ToolScopes()) {
    if (!platform.scopes_supported.empty() && !Contains(platform.scopes_supported, s)) continue;
    if (!scope.empty()) scope += ' ';
    scope += s;
  }
  // Older Moodle says "LtiResourceLink" for resource-link launches.
  auto supported = [&](std::string_view type) {
    if (platform.messages_supported.empty()) return true;
    if (Contains(platform.messages_supported, type)) return true;
    return type == kMsgResourceLink && Contains(platform.messages_supported, "LtiResourceLink");
  };
  json messages = json::array();
  if (supported(kMsgResourceLink)) {
    messages.push_back({{"type", kMsgResourceLink}, {"target_link_uri", tool.LaunchUrl()}, {"label", tool.title}});
  }
  if (supported(kMsgDeepLinkingRequest)) {
    messages.push_back({{"type", kMsgDeepLinkingRequest},
                        {"target_link_uri", tool.LaunchUrl()},
                        {"label", tool.title},
                        {"placements", {"link_selection", "assignment_selection", "ContentArea"}}});
  }
  std::string domain;
  if (auto url = Url::Parse(tool.public_url); url.ok()) domain = url->host;
  json custom = json::object();
  for (const auto& [name, value] : tool.custom_fields) custom[name] = value;
  json tool_configuration = {
      {"domain", domain},
      {"target_link_uri", tool.LaunchUrl()},
      {"custom_parameters", custom},
      {"description", tool.description},
      {"messages", messages},
      {"claims", {"iss", "sub", "name", "given_name", "family_name", "email"}},
  };
  if (platform.product_family_code == "canvas") {
    tool_configuration["https://canvas.instructure.com/lti/privacy_level"] = tool.canvas_privacy_level;
  }
  return {
      {"application_type", "web"},
      {"grant_types", {"client_credentials", "implicit"}},
      {"response_types", {"id_token"}},
      {"redirect_uris", {tool.LaunchUrl()}},
      {"initiate_login_uri", tool.LoginUrl()},
      {"client_name", tool.title},
      {"jwks_uri", tool.JwksUrl()},
      {"token_endpoint_auth_method", "private_key_jwt"},
      {"scope", scope},
      {kToolConfigurationKey, tool_configuration},
  };
}

Result<RegistrationResponse> ParseRegistrationResponse(std::string_view body) {
  if (body.size() > kMaxDocumentBytes) {
    return Invalid("registration.bad_response", "The platform's registration answer is larger than 256 KiB.");
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Invalid("registration.bad_response", "The platform's registration answer is not a JSON object.");
  }
  RegistrationResponse out;
  if (auto id = doc.find("client_id"); id != doc.end() && id->is_string()) out.client_id = id->get<std::string>();
  if (out.client_id.empty()) {
    return Invalid("registration.bad_response", "The platform's registration answer has no client_id.");
  }
  if (auto s = doc.find("scope"); s != doc.end() && s->is_string()) out.scope = s->get<std::string>();
  if (auto tc = doc.find(kToolConfigurationKey); tc != doc.end() && tc->is_object()) {
    if (auto d = tc->find("deployment_id"); d != tc->end()) {
      if (d->is_string()) out.deployment_id = d->get<std::string>();
      if (d->is_number_integer()) out.deployment_id = std::to_string(d->get<int64_t>());
    }
  }
  return out;
}

PlatformFamily FamilyFromProductCode(std::string_view code) {
  if (code == "canvas") return PlatformFamily::kCanvas;
  if (code == "moodle") return PlatformFamily::kMoodle;
  if (code == "desire2learn" || code == "brightspace" || code == "d2l") return PlatformFamily::kBrightspace;
  if (code == "blackboard" || code == "BlackboardLearn") return PlatformFamily::kBlackboard;
  if (code == "sakai") return PlatformFamily::kSakai;
  return PlatformFamily::kGeneric;
}

}  // namespace gb::lti
