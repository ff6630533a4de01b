#include "lti/ags_outcome.h"

#include <utility>

namespace gb::lti {
namespace {

bool TargetsLineItem(AgsOperation op) {
  return op == AgsOperation::kGetLineItem || op == AgsOperation::kUpdateLineItem ||
         op == AgsOperation::kDeleteLineItem || op == AgsOperation::kPostScore ||
         op == AgsOperation::kGetResults;
}

// " Platform said: "…" (HTTP 422)." — the platform's words and the status, for every diagnosis.
std::string Evidence(const ServiceResponse& r) {
  std::string msg = PlatformMessage(r.body);
  std::string out;
  if (!msg.empty()) out += " Platform said: \"" + msg + "\"";
  out += " (HTTP " + std::to_string(r.status) + ").";
  return out;
}

// `r` is taken by rvalue reference on purpose: callers write Make(..., Evidence(r), std::move(r)),
// and a by-value parameter could be move-constructed before Evidence(r) is evaluated.
ServiceOutcome Make(Classification c, std::string reason, std::string diagnosis, ServiceResponse&& r) {
  ServiceOutcome o;
  o.classification = c;
  o.reason = std::move(reason);
  o.diagnosis = std::move(diagnosis);
  o.response = std::move(r);
  return o;
}

std::string RetryHint(const ServiceResponse& r) {
  if (r.retry_after_seconds) return " Retry after " + std::to_string(*r.retry_after_seconds) + " s.";
  return "";
}

ServiceOutcome ClassifyClientError(AgsOperation op, PlatformFamily family, ServiceResponse r,
                                   bool token_refreshed) {
  const int s = r.status;
  const std::string& body = r.body;
  const std::string what = std::string(OperationName(op));

  // Moodle refuses a score whose timestamp is not newer than the stored grade (second
  // resolution, equality included): a replay of a score it already has, or a newer grade exists.
  if (s == 409 && op == AgsOperation::kPostScore &&
      (family == PlatformFamily::kMoodle || ContainsIgnoreCase(body, "earlier timestamp"))) {
    return Make(Classification::kAlreadyApplied, "ags.already_applied",
                "The platform already holds a score for this user at least as new as this one (it was "
                "delivered before, or a newer grade or a teacher's edit replaced it); nothing to send." +
                    Evidence(r),
                std::move(r));
  }
  // Specific platform messages first (platforms.md A3, B4, C).
  if (ContainsIgnoreCase(body, "before last updated timestamp")) {
    return Make(Classification::kPermanent, "ags.newer_score_recorded",
                "A newer score is already recorded for this user on this line item; the platform keeps "
                "the newest by timestamp, so this older score was not applied." + Evidence(r),
                std::move(r));
  }
  if (ContainsIgnoreCase(body, "not a valid timestamp")) {
    return Make(Classification::kPermanent, "ags.invalid_timestamp",
                "The platform could not parse the score's timestamp." + Evidence(r), std::move(r));
  }
  if (ContainsIgnoreCase(body, "not found in course or is not a student") ||
      ContainsIgnoreCase(body, "does not belong to site") ||
      ContainsIgnoreCase(body, "not a gradable member") ||
      (s == 422 && ContainsIgnoreCase(body, "not a student"))) {
    return Make(Classification::kPermanent, "ags.user_not_in_course",
                "The user is not a student in this course: they may have dropped or not be enrolled yet "
                "(re-sync the roster), or be a teacher, admin or test user." + Evidence(r),
                std::move(r));
  }
  if (ContainsIgnoreCase(body, "Incorrect score received")) {
    return Make(Classification::kPermanent, "ags.score_rejected",
                "Moodle refused the score: the user is not gradable in this course (not enrolled, or "
                "a teacher/admin), or a score field was malformed." + Evidence(r),
                std::move(r));
  }
  if (ContainsIgnoreCase(body, "ScoreMaximum not supplied")) {
    return Make(Classification::kPermanent, "ags.score_maximum_missing",
                "The score carried scoreGiven without scoreMaximum." + Evidence(r), std::move(r));
  }
  if (ContainsIgnoreCase(body, "course has concluded")) {
    return Make(Classification::kPermanent, "ags.course_concluded",
                "The course has concluded; the platform no longer accepts grades for it." + Evidence(r),
                std::move(r));
  }
  if (ContainsIgnoreCase(body, "maximum number of allowed attempts")) {
    return Make(Classification::kPermanent, "ags.attempts_exhausted",
                "The learner has used all allowed attempts for this assignment, so the platform will "
                "not create another submission." + Evidence(r),
                std::move(r));
  }
  if (ContainsIgnoreCase(body, "No handler found")) {
    return Make(Classification::kPermanent, "ags.media_type_rejected",
                "Moodle found no handler for the request's Accept/Content-Type media type (a gradebridge "
                "bug: please report it)." + Evidence(r),
                std::move(r));
  }
  const bool scope_problem = ContainsIgnoreCase(body, "Insufficient permissions") ||
                             (ContainsIgnoreCase(body, "scope") && ContainsIgnoreCase(body, "not in access token"));
  if (scope_problem) {
    const char* service = op == AgsOperation::kGetMemberships ? "Names and Role Provisioning scope"
                                                              : "Assignment and Grade Services scopes";
    return Make(Classification::kPermanent, "ags.missing_scope",
                "Missing scope: the access token does not carry the scope needed to " + what + "; enable the " +
                    service + " on the platform's tool / developer key." + Evidence(r),
                std::move(r));
  }
  if (ContainsIgnoreCase(body, "does not have permission to view line_item")) {
    return Make(Classification::kPermanent, "ags.not_tool_line_item",
                "The line item belongs to another tool or developer key; this registration may not "
                "read or change it." + Evidence(r),
                std::move(r));
  }

  switch (s) {
    case 401:
      if (!token_refreshed) {
        return Make(Classification::kRetryable, "ags.token_rejected",
                    "The platform rejected the access token. A new token was requested moments ago, so "
                    "this attempt was not repeated at once; retry later." + Evidence(r),
                    std::move(r));
      }
      return Make(Classification::kPermanent, "ags.unauthorized",
                  "The platform refused a freshly issued access token: the developer key may be "
                  "inactive or not enabled for this account, the tool may not be installed in this "
                  "course, or the line item may be managed by the platform (Canvas refuses to delete "
                  "those)." + Evidence(r),
                  std::move(r));
    case 404:
    case 410:
      if (op == AgsOperation::kGetMemberships) {
        return Make(Classification::kPermanent, "ags.not_found",
                    "The roster (context memberships URL) was not found: the course may have been deleted "
                    "or concluded, or the URL is not this course's." + Evidence(r),
                    std::move(r));
      }
      if (TargetsLineItem(op)) {
        return Make(Classification::kPermanent, "ags.not_found",
                    "The line item no longer exists: it was deleted, or its course was deleted or "
                    "concluded." + Evidence(r),
                    std::move(r));
      }
      return Make(Classification::kPermanent, "ags.not_found",
                  "The line item container was not found: the course may have been deleted or "
                  "concluded, or (when creating) the resource link does not exist." + Evidence(r),
                  std::move(r));
    case 403:
      return Make(Classification::kPermanent, "ags.forbidden",
                  "The platform refused to " + what + " for this tool (for example a resourceLinkId that "
                  "belongs to another tool)." + Evidence(r),
                  std::move(r));
    case 405:
      return Make(Classification::kPermanent, "ags.method_not_allowed",
                  "The platform does not allow this method on this URL; check that the stored line "
                  "item / container URL is the right kind." + Evidence(r),
                  std::move(r));
    case 409:
      return Make(Classification::kPermanent, "ags.conflict",
                  "The platform refused the request as conflicting with its current state (for a score: "
                  "one with the same or a later timestamp may already be recorded)." + Evidence(r),
                  std::move(r));
    case 412:
      return Make(Classification::kPermanent, "ags.precondition_failed",
                  "The platform refused the request: the line item belongs to another tool, or the "
                  "resourceLinkId does not match it." + Evidence(r),
                  std::move(r));
    case 413:
      return Make(Classification::kPermanent, "ags.too_large",
                  "The platform refused the request as too large." + Evidence(r), std::move(r));
    case 415:
      return Make(Classification::kPermanent, "ags.media_type_rejected",
                  "The platform refused the request's media type (a gradebridge bug: please report "
                  "it)." + Evidence(r),
                  std::move(r));
    case 422:
      return Make(Classification::kPermanent, "ags.unprocessable",
                  "The platform refused to " + what + " as invalid." + Evidence(r), std::move(r));
    case 400:
      return Make(Classification::kPermanent, "ags.bad_request",
                  "The platform refused to " + what + " as a bad request." + Evidence(r), std::move(r));
    default:
      return Make(Classification::kPermanent, "ags.rejected",
                  "The platform refused to " + what + "." + Evidence(r), std::move(r));
  }
}

}  // namespace

std::string_view ClassificationName(Classification c) {
  switch (c) {
    case Classification::kDelivered: return "delivered";
    case Classification::kAlreadyApplied: return "already_applied";
    case Classification::kRetryable: return "retryable";
    case Classification::kRateLimited: return "rate_limited";
    case Classification::kPermanent: return "permanent";
  }
  return "permanent";
}

std::string_view OperationName(AgsOperation op) {
  switch (op) {
    case AgsOperation::kListLineItems: return "list line items";
    case AgsOperation::kGetLineItem: return "read the line item";
    case AgsOperation::kCreateLineItem: return "create the line item";
    case AgsOperation::kUpdateLineItem: return "update the line item";
    case AgsOperation::kDeleteLineItem: return "delete the line item";
    case AgsOperation::kPostScore: return "post the score";
    case AgsOperation::kGetResults: return "read results";
    case AgsOperation::kGetMemberships: return "read the roster";
  }
  return "call the service";
}

ServiceOutcome ClassifyResponse(AgsOperation op, PlatformFamily family, ServiceResponse r,
                                bool token_refreshed) {
  const int s = r.status;
  if (s >= 200 && s <= 299) {
    return Make(Classification::kDelivered, "ags.ok", "The platform accepted the request (HTTP " +
                                                          std::to_string(s) + ").",
                std::move(r));
  }
  if (r.rate_limited) {
    std::string how = s == 429 ? "HTTP 429" : "HTTP 403 Rate Limit Exceeded";
    return Make(Classification::kRateLimited, "ags.rate_limited",
                "The platform is throttling this tool's requests (" + how + "); slow down and retry." +
                    RetryHint(r),
                std::move(r));
  }
  if (s == 408) {
    return Make(Classification::kRetryable, "ags.platform_timeout",
                "The platform timed out handling the request (HTTP 408); retry." + RetryHint(r), std::move(r));
  }
  if (s >= 500 && s != 501 && s <= 599) {
    return Make(Classification::kRetryable, "ags.platform_unavailable",
                "The platform failed or is unavailable; retry later." + RetryHint(r) + Evidence(r),
                std::move(r));
  }
  if (s >= 300 && s <= 399) {
    std::string location = r.headers.Get("Location").value_or("");
    return Make(Classification::kPermanent, "ags.unexpected_redirect",
                "The service answered with a redirect" + (location.empty() ? std::string() : " to " + location) +
                    " instead of data; the stored service URL is probably outdated." + Evidence(r),
                std::move(r));
  }
  if (s >= 400 && s <= 499) return ClassifyClientError(op, family, std::move(r), token_refreshed);
  return Make(Classification::kPermanent, "ags.unexpected_status",
              "The platform answered with an unexpected status." + Evidence(r), std::move(r));
}

ServiceOutcome ClassifyFailure(AgsOperation op, const Status& failure, ServiceResponse response) {
  const std::string& reason = failure.reason();
  std::string diagnosis = failure.message();
  Classification c = Classification::kPermanent;
  if (reason == "http.transport" || reason == "http.timeout") {
    c = Classification::kRetryable;
    diagnosis = "Could not reach the platform to " + std::string(OperationName(op)) + ": " + failure.message();
  } else if (reason == "token.unavailable") {
    c = response.rate_limited ? Classification::kRateLimited : Classification::kRetryable;
  } else if (failure.code() == Code::kResourceExhausted) {
    c = Classification::kRateLimited;
  } else if (failure.code() == Code::kUnavailable || failure.code() == Code::kDeadlineExceeded ||
             failure.code() == Code::kInternal) {
    c = Classification::kRetryable;  // e.g. token.signing_failed: the key store may be back soon
  }
  // Everything else (token.invalid_*, service.not_granted, service.host_not_allowed,
  // http.response_too_large, ...) cannot succeed by repeating the same request.
  return Make(c, reason.empty() ? std::string("ags.failed") : reason, std::move(diagnosis), std::move(response));
}

}  // namespace gb::lti
