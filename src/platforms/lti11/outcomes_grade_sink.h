// OutcomesGradeSink: passback::GradeSink over LTI 1.1 Basic Outcomes (replaceResult).
//
// Deliver():
//   1. The target: the score's lineitem_url is the launch's lis_outcome_service_url and
//      result_sourcedid its lis_result_sourcedid. The URL must pass the registration's host
//      allow-list (Registration::AllowsUrl) — kPermanent "lti11.host_not_allowed" otherwise.
//   2. The value: 1.1 carries only a fraction, so score_given / score_maximum is sent, clamped to
//      [0.0, 1.0] (extra credit above 1.0 is clamped, and the result says so in `warning`). A
//      score with no score_given cannot be expressed ("lti11.no_score", kPermanent).
//   3. replaceResult signed with the registration's LTI 1.1 consumer key (CredentialsFor); Canvas
//      registrations that send comments get the comment as the resultData/text extension.
//   4. Classification (Classify): codeMajor success/processing -> delivered; failure/unsupported
//      -> permanent with the platform's description; 429 (or Canvas's 403 throttle) -> throttled;
//      5xx, timeouts and transport failures -> retry; 401 (signature, clock or nonce refused),
//      415 and other 4xx without a POX failure -> permanent; an answer that is not POX -> permanent.
//
// The rate key is "<outcome host:port> lti11:<client_id>". Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "base/clock.h"
#include "lti11/outcomes_client.h"
#include "passback/grade_sink.h"

namespace gb::platforms {

class OutcomesGradeSink final : public passback::GradeSink {
 public:
  // The consumer key and secret to sign this registration's outcome calls with.
  using CredentialsFor = std::function<Result<lti11::ConsumerCredentials>(const lti::Registration&)>;

  OutcomesGradeSink(lti11::OutcomesClient& client, CredentialsFor credentials, Clock& clock);

  std::string RateKey(const lti::Registration& registration, const passback::ScoreRecord& score) const override;
  passback::DeliveryResult Deliver(const lti::Registration& registration, const passback::ScoreRecord& score,
                                   const passback::DeliveryOptions& options) override;

 private:
  lti11::OutcomesClient& client_;
  CredentialsFor credentials_;
  Clock& clock_;
};

// The fraction LTI 1.1 sends for a score: given / maximum in [0, 1]; nullopt without a given score
// or a positive maximum.
std::optional<double> NormalisedScore(const passback::ScoreRecord& score);

// Maps one outcome exchange (or the transport failure) onto the dispatcher's vocabulary.
passback::DeliveryResult Classify(const Result<lti11::OutcomeExchange>& exchange, TimePoint now);

}  // namespace gb::platforms
