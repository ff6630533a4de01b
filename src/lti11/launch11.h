// LTI 1.1 launches (basic-lti-launch-request, an OAuth 1.0a-signed form POST) and the LTI 1.1 ->
// 1.3 migration claim.
//
// VerifyLaunch checks, in order, each with its own reason: the OAuth 1.0a signature checks of
// oauth1.h (Verify: consumer key, method, version, timestamp window, nonce, signature, nonce
// single use), then lti_message_type = basic-lti-launch-request ("lti11.bad_message_type"),
// lti_version = LTI-1p0 ("lti11.bad_version"), resource_link_id present ("lti11.missing_resource_link"),
// and size bounds ("lti11.bad_field"). A VerifiedLaunch can be made only by VerifyLaunch, and
// ToLaunch turns one into the same lti::Launch record a 1.3 launch produces, so the hand-off is
// identical: roles become LTI 1.3 role URIs (lti/roles.h understands 1.x URNs and short names),
// custom_* become custom parameters, lis_outcome_service_url + lis_result_sourcedid become the
// Basic Outcomes target, and Canvas's ext_* parameters are kept in `ext`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lti/launch.h"
#include "lti11/oauth1.h"

namespace gb::lti11 {

class VerifiedLaunch {
 public:
  const Verified& oauth() const { return oauth_; }
  // First value of a launch parameter, "" when absent.
  std::string Param(std::string_view name) const;
  const Params& params() const { return oauth_.params; }

 private:
  friend Result<VerifiedLaunch> VerifyLaunch(const SignedRequest&, const VerifyOptions&, const SecretLookup&,
                                             const NonceConsumer&);
  explicit VerifiedLaunch(Verified oauth) : oauth_(std::move(oauth)) {}
  Verified oauth_;
};

Result<VerifiedLaunch> VerifyLaunch(const SignedRequest& request, const VerifyOptions& options,
                                    const SecretLookup& secrets, const NonceConsumer& nonces);

// The normalised launch record; `registration` is the one the consumer key belongs to.
lti::Launch ToLaunch(const VerifiedLaunch& verified, const lti::Registration& registration, std::string id,
                     int64_t now);

// The LTI 1.3 role URI for a 1.1 role value (URN or short name); unknown values are kept as sent.
std::string ToLti13Role(std::string_view role);

// lti1p1 migration claim (lti-digest §9.2): base64(HMAC-SHA256(secret,
// "oauth_consumer_key&deployment_id&iss&client_id&exp&nonce")).
std::string ConsumerKeySign(std::string_view secret, std::string_view consumer_key, std::string_view deployment_id,
                            std::string_view issuer, std::string_view client_id, int64_t exp, std::string_view nonce);
bool VerifyConsumerKeySign(std::string_view signature, std::string_view secret, std::string_view consumer_key,
                           std::string_view deployment_id, std::string_view issuer, std::string_view client_id,
                           int64_t exp, std::string_view nonce);

}  // namespace gb::lti11
