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
  for (const std::string* u : {&issuer, &auth_url, &token_url, &jwks_url}) {
    auto parsed = Url::Parse(*u);
    if (!parsed.ok()) continue;
    if (std::find(hosts.begin(), hosts.end(), parsed->host) == hosts.end()) hosts.push_back(parsed->host);
  }
  return hosts;
}

std::string Registration::EffectiveTokenAudience() const {
  if (!token_audience.empty()) return token_audience;
  // D2L validates the assertion audience against a fixed value, not the token URL (platforms.md C).
  if (family == PlatformFamily::kBrightspace) return "https://api.brightspace.com/auth/token";
  return token_url;
}

}  // namespace gb::lti
