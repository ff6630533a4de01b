// LTI 1.1 consumer keys: creation (gradebridge lti11-key add), the sealed secret, and the
// credential lookups the 1.1 launch endpoint, the outcomes sink and the lti1p1 migration check
// use. The secret is sealed with the data key (jose::Seal, aad "lti11:" + consumer key): it must
// be usable for signing outcome calls, so unlike API and passback keys it cannot be a hash.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "app/admin.h"
#include "lti11/outcomes_client.h"

namespace gb::app {

struct Lti11KeyInput {
  std::string tenant;
  std::string consumer_key;  // empty: generated ("gb11_" + hex)
  // The secret the platform already has (importing a legacy 1.1 tool's credentials, or a
  // platform upgraded to 1.3 whose lti1p1 claim is signed with it); empty: generated.
  std::string secret;
  // Attach to an existing registration (a platform that also has, or moved to, LTI 1.3);
  // otherwise a registration for this LTI 1.1 consumer is created (issuer "lti11:<key>",
  // client_id = key) with the fields below.
  std::string registration_id;
  std::vector<std::string> outcome_hosts;  // the new registration's service hosts
  std::string target_url;
  std::string family = "generic";
  bool send_comments = false;
};

struct NewLti11Key {
  lti::Lti11Consumer consumer;
  lti::Registration registration;
  bool created_registration = false;
  std::string secret;  // shown once (when generated), never stored in the clear
};

// kNotFound "tenant.unknown" / "registration.unknown"; kInvalidArgument "lti11_key.bad_key"
// (1-128 printable ASCII, no spaces), "lti11_key.bad_owner" (registration of another tenant),
// "lti11_key.no_outcome_host" (a new registration needs at least one --outcome-host: outcome URLs
// are only ever sent to allowed hosts), "registration.bad_service_host", "registration.bad_target-url".
Result<NewLti11Key> AddLti11Key(SqliteStore& store, const std::string& data_key, const Lti11KeyInput& in,
                                bool dev_mode);

Result<std::string> SealLti11Secret(const std::string& data_key, const std::string& consumer_key,
                                    const std::string& secret);
Result<std::string> OpenLti11Secret(const std::string& data_key, const lti::Lti11Consumer& consumer);

// The secret for a consumer key (kNotFound when unknown).
Result<std::string> Lti11SecretFor(lti::Lti11ConsumerStore& store, const std::string& data_key,
                                   std::string_view consumer_key);
// The newest consumer key of `registration`, to sign its outcome calls with (kNotFound
// "lti11_key.none" when it has none).
Result<lti11::ConsumerCredentials> Lti11CredentialsFor(lti::Lti11ConsumerStore& store, const std::string& data_key,
                                                       const lti::Registration& registration);

// The lti1p1 migration claim of a verified 1.3 launch (lti-digest §9.2): the LTI 1.1 user_id to
// keep, or "" when there is none to trust. Trusted only when the claim names an
// oauth_consumer_key this tenant holds the secret of and oauth_consumer_key_sign verifies over
// (consumer key, deployment_id, iss, client_id, exp, nonce) of the same id_token; otherwise the
// launch proceeds as a plain 1.3 launch and `why` (if given) says why nothing was migrated.
std::string VerifiedLti1p1UserId(const nlohmann::json& claims, const lti::Registration& registration,
                                 lti::Lti11ConsumerStore& store, const std::string& data_key,
                                 std::string* why = nullptr);

}  // namespace gb::app
