#include "sim/canvas_developer_key.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "base/url.h"
#include "sim/lti_names.h"

namespace gb::sim {
namespace {

using nlohmann::json;

Status Bad(const std::string& message) {
  return Error(Code::kInvalidArgument, "sim.bad_developer_key", message);
}

// The scopes a Canvas developer key may request (platforms.md A9).
bool CanvasAllowsScope(const std::string& scope) {
  static const char* const kAllowed[] = {
      "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
      "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
      "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
      "https://purl.imsglobal.org/spec/lti-ags/scope/score",
      "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
      "https://purl.imsglobal.org/spec/lti/scope/noticehandlers",
      "https://canvas.instructure.com/lti/public_jwk/scope/update",
  };
  return std::any_of(std::begin(kAllowed), std::end(kAllowed), [&](const char* a) { return scope == a; });
}

Result<std::string> RequiredUrl(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Bad(std::string(key) + " is required");
  }
  auto url = Url::Parse(it->get<std::string>());
  if (!url.ok()) return Bad(std::string(key) + ": " + url.status().message());
  return it->get<std::string>();
}

}  // namespace

Result<ToolSpec> ToolSpecFromCanvasDeveloperKey(const json& config, const std::vector<std::string>& redirect_uris) {
  if (!config.is_object()) return Bad("the configuration must be a JSON object");
  ToolSpec spec;
  spec.profile = Profile::kCanvas;
  for (const char* key : {"title", "description"}) {
    auto it = config.find(key);
    if (it == config.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Bad(std::string(key) + " is required");
    }
  }
  spec.name = config["title"].get<std::string>();
  GB_ASSIGN_OR_RETURN(spec.login_url, RequiredUrl(config, "oidc_initiation_url"));
  GB_ASSIGN_OR_RETURN(spec.target_link_uri, RequiredUrl(config, "target_link_uri"));

  if (config.contains("public_jwk_url")) {
    GB_ASSIGN_OR_RETURN(spec.jwks_url, RequiredUrl(config, "public_jwk_url"));
  } else if (auto jwk = config.find("public_jwk"); jwk != config.end()) {
    if (!jwk->is_object() || !jwk->contains("alg") || !jwk->contains("use") || !jwk->contains("kid")) {
      return Bad("public_jwk must be a JWK with kid, alg and use");
    }
    return Bad("this simulator takes public_jwk_url only (it verifies client assertions against a URL)");
  } else {
    return Bad("public_jwk_url or public_jwk is required");
  }

  if (auto scopes = config.find("scopes"); scopes != config.end()) {
    if (!scopes->is_array()) return Bad("scopes must be an array of strings");
    for (const auto& s : *scopes) {
      if (!s.is_string()) return Bad("scopes must be an array of strings");
      if (!CanvasAllowsScope(s.get<std::string>())) return Bad("scope not allowed: " + s.get<std::string>());
    }
  }
  if (auto custom = config.find("custom_fields"); custom != config.end() && !custom->is_null()) {
    if (!custom->is_object()) return Bad("custom_fields must be an object");
    for (const auto& [name, value] : custom->items()) {
      if (!value.is_string()) return Bad("custom field " + name + " must be a string");
      spec.custom[name] = value.get<std::string>();
    }
  }
  if (auto extensions = config.find("extensions"); extensions != config.end()) {
    if (!extensions->is_array()) return Bad("extensions must be an array");
    for (const auto& ext : *extensions) {
      if (!ext.is_object() || ext.value("platform", "") != "canvas.instructure.com") {
        return Bad("each extension must be for platform canvas.instructure.com");
      }
      std::string privacy = ext.value("privacy_level", "anonymous");
      if (privacy != "anonymous" && privacy != "name_only" && privacy != "email_only" && privacy != "public") {
        return Bad("privacy_level must be anonymous, name_only, email_only or public");
      }
      const json settings = ext.value("settings", json::object());
      const json placements = settings.is_object() ? settings.value("placements", json::array()) : json();
      if (!placements.is_array()) return Bad("settings.placements must be an array");
      for (const auto& p : placements) {
        if (!p.is_object() || !p.contains("placement")) return Bad("each placement needs a placement name");
        std::string type = p.value("message_type", lti::kMsgResourceLink);
        if (type != lti::kMsgResourceLink && type != lti::kMsgDeepLinkingRequest) {
          return Bad("placement message_type must be LtiResourceLinkRequest or LtiDeepLinkingRequest");
        }
        if (type == lti::kMsgDeepLinkingRequest && spec.deep_link_url.empty()) {
          spec.deep_link_url = p.value("target_link_uri", spec.target_link_uri);
          if (!Url::Parse(spec.deep_link_url).ok()) return Bad("placement target_link_uri is not a URL");
        }
      }
    }
  }
  if (redirect_uris.empty()) return Bad("redirect_uris must list at least one URL");
  spec.redirect_uris = redirect_uris;
  return spec;
}

}  // namespace gb::sim

namespace gb::sim {

http::Response Platform::HandleRegisterCanvasTool(const http::Request& request) {
  auto error = [](int status, std::string_view code, std::string_view message) {
    return http::Response::Json(status, json{{"error", code}, {"message", message}}.dump());
  };
  auto content_type = request.headers.Get("Content-Type");
  if (!content_type || !StartsWith(ToLower(Trim(*content_type)), "application/json")) {
    return error(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return error(400, "invalid_request", "The body must be a JSON object");

  std::vector<std::string> redirect_uris;
  if (auto it = body.find("redirect_uris"); it != body.end()) {
    if (!it->is_array()) return error(400, "invalid_request", "redirect_uris must be an array of strings");
    for (const auto& u : *it) {
      if (!u.is_string() || !Url::Parse(u.get<std::string>()).ok()) {
        return error(400, "invalid_request", "redirect_uris must be an array of URLs");
      }
      redirect_uris.push_back(u.get<std::string>());
    }
  }
  json config;
  if (auto url = body.find("config_url"); url != body.end()) {
    // Canvas's "Enter URL" option: Canvas fetches the JSON itself.
    if (!url->is_string() || !Url::Parse(url->get<std::string>()).ok()) {
      return error(400, "invalid_request", "config_url must be a URL");
    }
    http::Request get;
    get.method = "GET";
    get.url = url->get<std::string>();
    get.headers.Set("Accept", "application/json");
    auto fetched = FetchClient().Send(get);
    if (!fetched.ok() || fetched->status != 200) {
      return error(400, "invalid_request",
                   "Could not fetch the configuration from " + get.url + ": " +
                       (fetched.ok() ? "HTTP " + std::to_string(fetched->status) : fetched.status().message()));
    }
    config = json::parse(fetched->body, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded()) return error(400, "invalid_request", "The configuration at config_url is not JSON");
  } else if (auto inline_config = body.find("config"); inline_config != body.end()) {
    config = *inline_config;
  } else {
    return error(400, "invalid_request", "Send the developer key JSON as config, or its URL as config_url");
  }

  auto spec = ToolSpecFromCanvasDeveloperKey(config, redirect_uris);
  if (!spec.ok()) return error(400, spec.status().reason(), spec.status().message());
  auto tool = RegisterTool(std::move(*spec));
  if (!tool.ok()) return error(400, "invalid_request", tool.status().message());
  LogInfo("sim.tool_registered", {{"client_id", tool->client_id},
                                  {"deployment_id", tool->deployment_id},
                                  {"profile", "canvas"},
                                  {"from", "developer_key_json"}});
  http::Response r = http::Response::Json(201, ToolToJson(*tool).dump());
  r.headers.Add("Location", base_url() + "/sim/api/tools/" + PercentEncode(tool->client_id));
  return r;
}

}  // namespace gb::sim
