// LoginState: what OIDC login must remember until the launch comes back — state, nonce, the
// registration and the login-time hints. It travels in a cookie (or, for cookieless launches, in
// platform storage) sealed with an HMAC under a server key, so logins need no database write and
// any node can finish a launch another node started.
//
// Cookie value format: base64url(JSON) "." base64url(HMAC-SHA256(key, base64url(JSON))).
// The cookie name carries the state ("gb_lti_<state>") so concurrent launches in several tabs or
// iframes do not overwrite each other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gb::lti {

struct LoginState {
  std::string state;
  std::string nonce;
  std::string registration_id;
  std::string target_link_uri;   // as sent at login (unsigned); must match the signed claim
  std::string login_deployment_id;  // lti_deployment_id from login, may be empty
  int64_t expires_at = 0;        // unix seconds
};

inline constexpr std::string_view kStateCookiePrefix = "gb_lti_";

class LoginStateCodec {
 public:
  explicit LoginStateCodec(std::string hmac_key) : key_(std::move(hmac_key)) {}
  std::string Seal(const LoginState& s) const;
  // kUnauthenticated "launch.state_cookie_invalid" for a forged or damaged value,
  // "launch.state_expired" once expires_at has passed.
  Result<LoginState> Open(std::string_view value, int64_t now) const;

 private:
  std::string key_;
};

}  // namespace gb::lti
