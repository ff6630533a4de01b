#include "lti/registration.h"

#include <algorithm>

#include "base/url.h"

namespace gb::lti {

std::string_view FamilyName(PlatformFamily family) {
  switch (family) {
    case PlatformFamily::kGeneric: return "generic";
    case PlatformFamily::kCanvas: return "canvas";
    case PlatformFamily::kMoodle: return "moodle";
    case PlatformFamily::kBrightspace: return "brightspace";
    case PlatformFamily::kBlackboard: return "blackboard";
    case PlatformFamily::kSakai: return "sakai";
  }
  return "generic";
}

std::optional<PlatformFamily> ParseFamily(std::string_view name) {
  for (auto f : {PlatformFamily::kGeneric, PlatformFamily::kCanvas, PlatformFamily::kMoodle,
                 PlatformFamily::kBrightspace, PlatformFamily::kBlackboard, PlatformFamily::kSakai}) {
    if (FamilyName(f) == name) return f;
  }
  return std::nullopt;
}

bool Registration::HasDeployment(std::string_view deployment_id) const {
  return std::find(deployment_ids.begin(), deployment_ids.end(), deployment_id) != deployment_ids.end();
}

std::vector<std::string> Registration::AllowedHosts() const {
  std::vector<std::string> hosts;
  auto add = [&hosts](const std::string& h) {
    if (std::find(hosts.begin(), hosts.end(), h) == hosts.end()) hosts.push_back(h);
  };
  for (const std::string* u : {&issuer, &auth_url, &token_url, &jwks_url}) {
    auto parsed = Url::Parse(*u);
    if (parsed.ok()) add(parsed->host);
  }
  for (const std::string& h : service_hosts) add(h);
  return hosts;
}

bool Registration::AllowsUrl(const Url& url) const {
  for (const std::string& entry : AllowedHosts()) {
    // Entries never hold IPv6 literals (ValidateServiceHost), so a colon always starts a port.
    const auto colon = entry.find(':');
    if (colon == std::string::npos) {
      if (entry == url.host) return true;
    } else if (std::string_view(entry).substr(0, colon) == url.host &&
               std::string_view(entry).substr(colon + 1) == std::to_string(url.port)) {
      return true;
    }
  }
  return false;
}

std::string Registration::EffectiveTokenAudience() const {
  if (!token_audience.empty()) return token_audience;
  // D2L validates the assertion audience against a fixed value, not the token URL (platforms.md C).
  if (family == PlatformFamily::kBrightspace) return "https://api.brightspace.com/auth/token";
  return token_url;
}

Status ValidateServiceHost(std::string_view host) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, "registration.bad_service_host",
                 "Service host \"" + std::string(host) + "\" " + why);
  };
  if (host.empty()) return bad("is empty.");
  if (host.find("://") != std::string_view::npos || host.find_first_of("/?#@") != std::string_view::npos) {
    return bad("must be a bare host name such as school.instructure.com (no scheme, path or user).");
  }
  if (host.front() == '[') return bad("is an IPv6 literal; only host names and IPv4 addresses are supported.");
  std::string_view name = host;
  if (auto colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        port.front() == '0' || std::stoi(std::string(port)) > 65535) {
      return bad("has an invalid port (1-65535 expected after the colon).");
    }
  }
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') return bad("must be lowercase.");
  }
  if (name.empty() || name.size() > 253) return bad("must have a host name of 1-253 characters.");
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        label.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string_view::npos) {
      return bad("is not a valid host name (dot-separated labels of a-z, 0-9 and '-').");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return Status::Ok();
}

}  // namespace gb::lti
