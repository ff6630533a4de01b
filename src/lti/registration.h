// Tenants and registrations: who the tool serves and which platforms it trusts.
// Plain data; storage lives behind the ports in lti/ports.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"

namespace gb {
struct Url;
}

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
  // Extra hosts AGS/NRPS URLs may be on, each valid for ValidateServiceHost ("host" or
  // "host:port"). Needed where the platform's service API lives elsewhere than its issuer, auth,
  // token and JWKS URLs: Canvas Cloud's AGS URLs are on the institution's host
  // (school.instructure.com), the others on canvas.instructure.com / sso.canvaslms.com.
  std::vector<std::string> service_hosts;

  // Passback policy (DESIGN §7), chosen per registration; all off by default.
  // Deliver only scores whose grading_progress is FullyGraded; others are accepted and kept but
  // never sent (some gradebooks wipe a final grade on any non-final progress update).
  bool final_grades_only = false;
  // Send the score's comment; otherwise comments never leave gradebridge (privacy by default).
  bool send_comments = false;
  // Accept score_given above score_maximum.
  bool allow_extra_credit = false;

  bool HasDeployment(std::string_view deployment_id) const;
  // Hosts outbound service calls may go to: the hosts of the issuer, auth, token and JWKS URLs
  // (host names, any port), then service_hosts as given ("host" or "host:port"); no duplicates.
  // For display; use AllowsUrl to decide whether a URL may be called.
  std::vector<std::string> AllowedHosts() const;
  // True when `url` is on one of AllowedHosts(): an entry without a port matches the URL's host
  // on any port, an entry "host:port" only that host on that port (explicit or the scheme's
  // default). AGS/NRPS URLs, including ones from launches, must pass this before anything is sent.
  bool AllowsUrl(const Url& url) const;
  // The client-assertion audience to use: token_audience, else the family default.
  std::string EffectiveTokenAudience() const;
};

// A service host as stored in Registration::service_hosts: a lowercase DNS name or IPv4 address
// (labels of a-z, 0-9 and '-', not starting or ending with '-'; at most 253 characters), with an
// optional ":port" (1-65535); no scheme, path, user info or IPv6 literal. kInvalidArgument
// "registration.bad_service_host" otherwise, with a message saying what is wrong.
Status ValidateServiceHost(std::string_view host);

}  // namespace gb::lti
