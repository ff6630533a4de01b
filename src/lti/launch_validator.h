// LaunchValidator: the id_token checklist of lti-digest §1.5, in order, stopping at the first
// failure. Each step is a small function with its own reason code, so a rejected launch always
// says exactly why (and tests can prove each category is refused for that reason).
//
// Order and reasons (all kUnauthenticated unless noted):
//   launch.missing_state (400), launch.no_session (no state cookie: often third-party cookies
//   blocked), launch.state_mismatch, launch.state_cookie_invalid, launch.state_expired,
//   launch.missing_id_token (400), launch.token_too_large (413), launch.malformed_jwt (400),
//   launch.bad_alg, launch.missing_kid, launch.unknown_kid, launch.jwks_unavailable (503),
//   launch.bad_signature, launch.wrong_issuer, launch.wrong_audience, launch.missing_azp,
//   launch.azp_mismatch, launch.missing_exp, launch.expired, launch.missing_iat,
//   launch.iat_in_future, launch.bad_timestamps (exp <= iat), launch.missing_nonce,
//   launch.nonce_mismatch, launch.nonce_replayed, launch.missing_deployment_id (400),
//   launch.unknown_deployment (403), launch.deployment_mismatch (403),
//   launch.missing_message_type (400), launch.unsupported_message_type (422),
//   launch.missing_version (400), launch.wrong_version (400), launch.missing_sub (400),
//   launch.missing_target_link_uri (400), launch.target_link_uri_mismatch (400),
//   launch.missing_roles (400), launch.missing_resource_link (400),
//   launch.missing_resource_link_id (400), launch.missing_for_user (400, submission review),
//   launch.missing_deep_linking_settings (400).
// Unknown claims are ignored.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "lti/jwks_provider.h"
#include "lti/launch.h"
#include "lti/login_state.h"
#include "lti/ports.h"

namespace gb::lti {

struct ValidatorSettings {
  std::chrono::seconds leeway{60};
  size_t max_token_bytes = 16 * 1024;
  bool allow_anonymous = false;  // CORE allows a missing sub; certification expects rejection
};

// What the browser brought to the launch endpoint.
struct LaunchInput {
  std::string id_token;
  std::string state;                         // form field
  std::optional<std::string> state_cookie;   // value of cookie gb_lti_<state>, if sent
  bool any_state_cookie = false;             // whether any gb_lti_* cookie was sent at all
};

class LaunchValidator {
 public:
  LaunchValidator(RegistrationStore& registrations, NonceStore& nonces, JwksProvider& keys,
                  const LoginStateCodec& codec, Clock& clock, ValidatorSettings settings = {});

  Result<VerifiedIdToken> Validate(const LaunchInput& input);

 private:
  RegistrationStore& registrations_;
  NonceStore& nonces_;
  JwksProvider& keys_;
  const LoginStateCodec& codec_;
  Clock& clock_;
  ValidatorSettings settings_;
};

}  // namespace gb::lti
