// Launch hand-off: a verified launch becomes a stored Launch plus a one-time, short-lived token
// the tool redeems (with its tenant API key) at GET /api/v1/launches/{token}. Only the token's
// SHA-256 is stored, so a database read does not yield usable tokens.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "lti/launch.h"
#include "lti/ports.h"

namespace gb::lti {

struct HandOff {
  Launch launch;
  std::string token;
  std::string redirect_url;  // target_url + launch_token; empty when the registration has none
};

class LaunchHandOff {
 public:
  LaunchHandOff(LaunchStore& launches, Clock& clock, Random& random,
                std::chrono::seconds token_ttl = std::chrono::seconds(120));

  Result<HandOff> Complete(const VerifiedIdToken& token);
  // The same for a launch verified by another protocol (an LTI 1.1 launch, lti11::ToLaunch):
  // `make` receives the new launch id and the time and builds the record. Only verified launches
  // may be passed here; `registration` supplies the target URL.
  Result<HandOff> CompleteLaunch(const std::function<Launch(std::string id, int64_t now)>& make,
                                 const Registration& registration);
  // One-time redemption by the tenant that owns the launch. Another tenant's token is reported as
  // unknown ("launch_token.unknown"), never as someone else's.
  Result<Launch> Redeem(std::string_view token, const TenantId& caller);

 private:
  Result<HandOff> Store(Launch launch, const Registration& registration, int64_t now);

  LaunchStore& launches_;
  Clock& clock_;
  Random& random_;
  std::chrono::seconds token_ttl_;
};

std::string HashToken(std::string_view token);

}  // namespace gb::lti
