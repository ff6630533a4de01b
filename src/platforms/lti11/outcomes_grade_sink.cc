#include "platforms/lti11/outcomes_grade_sink.h"

#include <algorithm>
#include <cmath>

#include "base/strings.h"
#include "base/url.h"
#include "lti/service_response.h"

namespace gb::platforms {

using passback::DeliveryResult;
using Kind = passback::DeliveryResult::Kind;

namespace {

DeliveryResult Permanent(std::string reason, std::string diagnosis) {
  DeliveryResult r;
  r.kind = Kind::kPermanent;
  r.reason = std::move(reason);
  r.diagnosis = std::move(diagnosis);
  return r;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

}  // namespace

std::optional<double> NormalisedScore(const passback::ScoreRecord& score) {
  if (!score.score_given || !score.score_maximum || !(*score.score_maximum > 0)) return std::nullopt;
  double f = *score.score_given / *score.score_maximum;
  if (!std::isfinite(f)) return std::nullopt;
  return std::clamp(f, 0.0, 1.0);
}

DeliveryResult Classify(const Result<lti11::OutcomeExchange>& exchange, TimePoint now) {
  DeliveryResult r;
  if (!exchange.ok()) {
    r.kind = Kind::kRetry;
    r.reason = exchange.status().reason().empty() ? "http.transport" : exchange.status().reason();
    r.diagnosis = "The outcome service did not answer: " + exchange.status().message();
    return r;
  }
  const lti11::OutcomeExchange& x = *exchange;
  lti::ServiceResponse sr = lti::MakeServiceResponse("", x.response, now);
  r.http_status = x.response.status;
  r.response_body = x.response.body;
  r.retry_after_seconds = sr.retry_after_seconds;
  r.rate_limit_remaining = sr.rate_limit_remaining;
  r.request_cost = sr.request_cost;
  const int status = x.response.status;
  if (sr.rate_limited) {
    r.kind = Kind::kThrottled;
    r.reason = "lti11.rate_limited";
    r.diagnosis = "The platform is rate limiting outcome calls; sending again after its pause.";
    return r;
  }
  if (status >= 500) {
    r.kind = Kind::kRetry;
    r.reason = "lti11.server_error";
    r.diagnosis = "The outcome service answered HTTP " + std::to_string(status) + "; retrying.";
    return r;
  }
  if (x.pox) {
    const std::string& major = x.pox->code_major;
    std::string words = x.pox->description;
    if (!x.pox->canvas_error_code.empty()) words += (words.empty() ? "" : " ") + ("[" + x.pox->canvas_error_code + "]");
    if (major == "success" || major == "processing") {
      if (status >= 200 && status < 300) {
        r.kind = Kind::kDelivered;
        r.reason = "lti11.ok";
        return r;
      }
    } else if (major == "failure" || major == "unsupported") {
      r.kind = Kind::kPermanent;
      r.reason = major == "failure" ? "lti11.failure" : "lti11.unsupported";
      r.diagnosis = "The platform refused the grade (imsx_codeMajor " + major + ", HTTP " + std::to_string(status) +
                    ")" + (words.empty() ? "." : ": " + words);
      return r;
    }
  }
  if (status == 401) {
    r.kind = Kind::kPermanent;
    r.reason = "lti11.unauthorized";
    r.diagnosis = "The platform refused the OAuth 1.0a signature (HTTP 401): check that the LTI 1.1 consumer key "
                  "and secret match the platform's, and this server's clock.";
    return r;
  }
  if (status == 415) {
    r.kind = Kind::kPermanent;
    r.reason = "lti11.bad_media_type";
    r.diagnosis = "The outcome service refused the content type (HTTP 415).";
    return r;
  }
  r.kind = Kind::kPermanent;
  r.reason = "lti11.bad_response";
  r.diagnosis = "The outcome service answered HTTP " + std::to_string(status) +
                " without a Basic Outcomes success: " +
                (x.pox ? "imsx_codeMajor " + x.pox->code_major : x.pox_error) + " " +
                lti::PlatformMessage(x.response.body, 200);
  return r;
}

OutcomesGradeSink::OutcomesGradeSink(lti11::OutcomesClient& client, CredentialsFor credentials, Clock& clock)
    : client_(client), credentials_(std::move(credentials)), clock_(clock) {}

std::string OutcomesGradeSink::RateKey(const lti::Registration& registration,
                                       const passback::ScoreRecord& score) const {
  Result<Url> parsed = Url::Parse(score.lineitem_url);
  return (parsed.ok() ? parsed->Authority() : std::string("?")) + " lti11:" + registration.client_id;
}

DeliveryResult OutcomesGradeSink::Deliver(const lti::Registration& registration, const passback::ScoreRecord& score,
                                          const passback::DeliveryOptions& options) {
  if (score.result_sourcedid.empty() || score.lineitem_url.empty()) {
    return Permanent("lti11.no_target", "Not sent: the score names no LTI 1.1 outcome service and sourcedid.");
  }
  Result<Url> url = Url::Parse(score.lineitem_url);
  if (!url.ok() || !registration.AllowsUrl(*url)) {
    return Permanent("lti11.host_not_allowed",
                     "Not sent: the outcome service URL is not on a host this registration allows (" +
                         Join(registration.AllowedHosts(), ", ") +
                         "). Add the host with `gradebridge registration update --add-service-host` if it is the platform's.");
  }
  std::optional<double> fraction = NormalisedScore(score);
  if (!fraction) {
    return Permanent("lti11.no_score",
                     "Not sent: LTI 1.1 Basic Outcomes can carry only a score (score_given with a positive "
                     "score_maximum); progress without a score has no 1.1 equivalent.");
  }
  Result<lti11::ConsumerCredentials> credentials = credentials_(registration);
  if (!credentials.ok()) {
    return Permanent("lti11.no_consumer_key",
                     "Not sent: the registration has no LTI 1.1 consumer key to sign with (" +
                         credentials.status().message() + "). Add one with `gradebridge lti11-key add`.");
  }
  lti11::PoxRequest request;
  request.operation = lti11::PoxOperation::kReplaceResult;
  request.sourced_id = score.result_sourcedid;
  request.score = *fraction;
  if (options.include_comment && registration.family == lti::PlatformFamily::kCanvas && !score.comment.empty()) {
    request.result_data_text = score.comment;  // Canvas extension (ext_outcome_data_values_accepted)
  }
  DeliveryResult r = Classify(client_.Send(score.lineitem_url, std::move(request), *credentials), clock_.Now());
  if (r.kind == Kind::kDelivered && score.score_given && score.score_maximum &&
      *score.score_given > *score.score_maximum) {
    r.warning = "LTI 1.1 scores are at most 1.0: " + FormatDecimal(*score.score_given) + "/" +
                FormatDecimal(*score.score_maximum) + " was sent as 1 (extra credit does not reach a 1.1 gradebook).";
  }
  return r;
}

}  // namespace gb::platforms
