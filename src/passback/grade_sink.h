// GradeSink: the port through which the dispatcher puts one score into one platform's gradebook.
// Declared here, in the core that drives it, and implemented by the platform adapters in
// platforms/ (LTI 1.3 AGS today; LTI 1.1 Basic Outcomes and Google Classroom later), so the
// dispatcher's retry, rate and ordering rules are the same whatever is on the other side.
//
// Contract for implementations:
//   - Deliver() sends at most what is needed for this one score (a token, a line item lookup or
//     creation when only the container is known, the score itself) and never throws.
//   - Every outbound URL is checked against the registration's allowed hosts before anything is
//     sent; a refused host is kPermanent.
//   - The classification is final: kDelivered / kAlreadyApplied mean the platform holds this
//     score (or a newer one); kRetry and kThrottled mean "nothing known to be applied, try again";
//     kPermanent means the same request cannot succeed and `diagnosis` says what a person must fix.
//   - Thread-safe: many workers call Deliver() at once.
#pragma once

#include <optional>
#include <string>

#include "lti/registration.h"
#include "passback/score.h"

namespace gb::passback {

struct DeliveryResult {
  enum class Kind { kDelivered, kAlreadyApplied, kRetry, kThrottled, kPermanent };
  Kind kind = Kind::kPermanent;
  std::string reason;          // stable code: "ags.ok", "ags.rate_limited", "http.timeout", ...
  std::string diagnosis;       // plain language; never a token or secret
  int http_status = 0;         // the last answer's status; 0 when nothing answered
  std::string response_body;   // the last answer's body (the dispatcher truncates it)
  std::optional<int> retry_after_seconds;     // the platform's Retry-After, when it sent one
  std::optional<double> rate_limit_remaining; // Canvas X-Rate-Limit-Remaining, when sent
  std::optional<double> request_cost;         // Canvas X-Request-Cost, when sent
  std::string lineitem_url;    // the line item used (resolved when the record had only a container)
  std::string warning;         // delivered, but a person should look (e.g. maximum mismatch)
};

// What the registration allows to leave for this score (DESIGN §7 privacy).
struct DeliveryOptions {
  bool include_comment = false;
};

class GradeSink {
 public:
  virtual ~GradeSink() = default;

  // The rate-control key for a score: the platform API host and client_id its requests are
  // metered under (Canvas meters per developer key per cluster).
  virtual std::string RateKey(const lti::Registration& registration, const ScoreRecord& score) const = 0;

  virtual DeliveryResult Deliver(const lti::Registration& registration, const ScoreRecord& score,
                                 const DeliveryOptions& options) = 0;
};

}  // namespace gb::passback
