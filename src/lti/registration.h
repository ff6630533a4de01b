// Tenants and registrations: who the tool serves and which platforms it trusts.
// Plain data; storage lives behind the ports in lti/ports.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strong_id.h"

namespace gb::lti {

struct TenantTag {};
struct RegistrationTag {};
using TenantId = StrongId<TenantTag>;
using RegistrationId = StrongId<RegistrationTag>;

enum class PlatformFamily { kGeneric, kCanvas, kMoodle, kBrightspace, kBlackboard, kSakai };
std::string_view FamilyName(PlatformFamily family);
std::optional<PlatformFamily> ParseFamily(std::string_view name);

struct Tenant {
  TenantId id;
  std::string name;          // unique, [a-z0-9-_.]{1,64}
  std::string api_key_hash;  // hex SHA-256 of the API key; the key itself is never stored
  int64_t created_at = 0;    // unix seconds
};

// One platform registration: (issuer, client_id) is unique across all tenants.
struct Registration {
  RegistrationId id;
  TenantId tenant_id;
  std::string issuer;
  std::string client_id;
  std::vector<std::string> deployment_ids;
  std::string auth_url;
  std::string token_url;
  std::string jwks_url;
  std::string token_audience;  // empty: the family default (Brightspace fixed; others token_url)
  PlatformFamily family = PlatformFamily::kGeneric;
  std::string target_url;      // where launches hand off; empty: built-in landing page
  int64_t created_at = 0;

  bool HasDeployment(std::string_view deployment_id) const;
  // Hosts outbound service calls may go to: the hosts of auth, token and JWKS URLs, plus the
  // issuer's host. AGS/NRPS URLs from launches must be on one of these.
  std::vector<std::string> AllowedHosts() const;
  // The client-assertion audience to use: token_audience, else the family default.
  std::string EffectiveTokenAudience() const;
};

}  // namespace gb::lti
