// POST /lti11/launch: LTI 1.1 launches (basic-lti-launch-request signed with OAuth 1.0a).
//
// The signature is checked against the URL the platform posted to: public_url + "/lti11/launch"
// (plus the query, if any) — behind a proxy, public_url must be what the platform sees. Then
// lti11::VerifyLaunch (timestamp window, nonce single use in the shared NonceStore under scope
// "lti11:<consumer key>", message type, version, resource link), the consumer key's registration
// (same tenant), and the hand-off exactly as for a 1.3 launch: 303 to the registration's target
// URL with a one-time launch_token, or the built-in landing page. Every refusal is a readable
// HTML page with its own reason (oauth.bad_signature, oauth.stale_timestamp,
// oauth.nonce_replayed, lti11.bad_message_type, ...) and a 4xx status; secrets and signatures are
// never logged.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/clock.h"
#include "http/message.h"
#include "lti/handoff.h"
#include "lti/ports.h"

namespace gb::app {

class Lti11LaunchEndpoint {
 public:
  Lti11LaunchEndpoint(lti::Lti11ConsumerStore& consumers, lti::RegistrationStore& registrations,
                      lti::NonceStore& nonces, lti::LaunchHandOff& handoff, Clock& clock, std::string data_key,
                      int64_t window_seconds);

  // Must be set before the first request: the tool's public base URL (no trailing slash).
  void SetPublicUrl(std::string public_url) { public_url_ = std::move(public_url); }

  http::Response Handle(const http::Request& request);

 private:
  lti::Lti11ConsumerStore& consumers_;
  lti::RegistrationStore& registrations_;
  lti::NonceStore& nonces_;
  lti::LaunchHandOff& handoff_;
  Clock& clock_;
  std::string data_key_;
  int64_t window_seconds_;
  std::string public_url_;
};

}  // namespace gb::app
