// Outcome classification for AGS calls: what a platform's answer (or the lack of one) means for
// whoever sent the request — above all the passback dispatcher, which must decide between
// "done", "retry later" and "fail now with a reason a person can act on".
//
// The table (docs/services.md has the full version):
//   2xx                                        kDelivered
//   409 on a score POST from Moodle            kAlreadyApplied (a score at least as new is stored)
//   429; Canvas 403 "Rate Limit Exceeded" /
//     X-Rate-Limit-Remaining <= 0              kRateLimited (back off: Retry-After when sent)
//   408, 5xx except 501, transport errors      kRetryable
//   401 after a token refresh was throttled    kRetryable ("ags.token_rejected")
//   every other status                         kPermanent, with a diagnosis from the body
// Pure functions; no I/O.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "lti/registration.h"
#include "lti/service_response.h"

namespace gb::lti {

enum class Classification {
  kDelivered,       // the platform applied the request
  kAlreadyApplied,  // nothing to do: the platform already holds this (or a newer) score
  kRetryable,       // transient; retry with backoff
  kRateLimited,     // throttled; retry after Retry-After / with reduced concurrency
  kPermanent,       // retrying the same request cannot succeed; see diagnosis
};
std::string_view ClassificationName(Classification c);  // "delivered", "already_applied", ...

enum class AgsOperation {
  kListLineItems,
  kGetLineItem,
  kCreateLineItem,
  kUpdateLineItem,
  kDeleteLineItem,
  kPostScore,
  kGetResults,
  kGetMemberships,  // NRPS context / resource-link membership (nrps_client.h)
};
std::string_view OperationName(AgsOperation op);  // "list line items", "post score", ...

struct ServiceOutcome {
  Classification classification = Classification::kPermanent;
  // Stable machine-readable code: "ags.ok", "ags.already_applied", "ags.rate_limited",
  // "ags.user_not_in_course", "http.timeout", "token.invalid_client", "service.not_granted", ...
  std::string reason;
  // Plain language for an administrator; includes the HTTP status and the platform's own words.
  // Never contains tokens or assertions.
  std::string diagnosis;
  // The last exchange made for this call: the service's answer, or — when the failure came from
  // the token endpoint — the token endpoint's (url tells which); status 0 when nothing answered.
  ServiceResponse response;

  bool ok() const {
    return classification == Classification::kDelivered || classification == Classification::kAlreadyApplied;
  }
  bool retryable() const {
    return classification == Classification::kRetryable || classification == Classification::kRateLimited;
  }
};

// Classifies a service's HTTP answer. `token_refreshed`: false when a 401 was not retried with a
// fresh token because a forced refresh happened moments ago (ServiceTokenClient::InvalidateRejected)
// — such a 401 is retryable unless the platform says the scope is missing.
ServiceOutcome ClassifyResponse(AgsOperation op, PlatformFamily family, ServiceResponse response,
                                bool token_refreshed = true);

// Classifies a failure that produced no answer from the service: a transport error from the
// HttpClient (http.transport / http.timeout → kRetryable), a token failure (token.unavailable →
// kRetryable, or kRateLimited when the token endpoint throttled; other token.* → kPermanent),
// service.not_granted / service.host_not_allowed (kPermanent). `response` is whatever exchange
// there was (e.g. the token endpoint's answer), or empty.
ServiceOutcome ClassifyFailure(AgsOperation op, const Status& failure, ServiceResponse response = {});

}  // namespace gb::lti
