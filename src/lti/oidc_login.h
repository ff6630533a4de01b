// OIDC third-party initiated login (lti-digest §1.2–1.3): checks the platform's login initiation
// against the registrations, then builds the authentication request and the sealed login state.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "base/strings.h"
#include "lti/login_state.h"
#include "lti/ports.h"

namespace gb::lti {

struct LoginRequest {
  std::string iss, login_hint, target_link_uri;
  std::optional<std::string> lti_message_hint, lti_deployment_id, client_id, lti_storage_target;

  // kInvalidArgument "login.missing_iss" / "login.missing_login_hint" /
  // "login.missing_target_link_uri" when a required parameter is absent or empty.
  static Result<LoginRequest> FromForm(const FormFields& fields);
};

struct LoginSettings {
  std::string redirect_uri;     // the tool's launch URL, registered at the platform
  std::string tool_origin;      // origin of public_url; target_link_uri must be on it (or on the
                                // registration's target_url origin)
  std::chrono::seconds state_ttl{600};
};

struct LoginResult {
  std::string auth_url;     // the platform auth endpoint with every parameter in the query
  std::string state;
  std::string cookie_name;  // kStateCookiePrefix + state
  std::string cookie_value;
  int cookie_max_age = 600;
};

class OidcLogin {
 public:
  OidcLogin(RegistrationStore& registrations, const LoginStateCodec& codec, Clock& clock,
            Random& random, LoginSettings settings);

  // Errors: "login.unknown_issuer" / "login.unknown_client" (kNotFound), "login.ambiguous_client"
  // (kInvalidArgument: several registrations share the issuer and no client_id was sent),
  // "login.unknown_deployment" (kPermissionDenied), "login.target_not_allowed" (kPermissionDenied:
  // open-redirect protection).
  Result<LoginResult> Start(const LoginRequest& request);

 private:
  RegistrationStore& registrations_;
  const LoginStateCodec& codec_;
  Clock& clock_;
  Random& random_;
  LoginSettings settings_;
};

}  // namespace gb::lti
