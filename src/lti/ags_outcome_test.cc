#include "lti/ags_outcome.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "lti/service_response.h"

namespace gb::lti {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));  // Tue, 14 Nov 2023 22:13:20 GMT

ServiceResponse Answer(int status, std::string body = "",
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return MakeServiceResponse("https://lms.test/lineitems/1/scores", r, kNow);
}

TEST(RetryAfterTest, DeltaSecondsAndHttpDates) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), 120);
  EXPECT_EQ(ParseRetryAfter(" 5 ", kNow), 5);
  EXPECT_EQ(ParseRetryAfter("0", kNow), 0);
  EXPECT_EQ(ParseRetryAfter("1.5", kNow), 2);
  EXPECT_EQ(ParseRetryAfter("99999999", kNow), 86400);
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:14:50 GMT", kNow), 90);
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", kNow), 0);  // in the past
  EXPECT_EQ(ParseRetryAfter("", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("12abc", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Foo 2023 22:14:50 GMT", kNow), std::nullopt);
}

TEST(ServiceResponseTest, RateLimitDetection) {
  auto r429 = Answer(429, "", {{"Retry-After", "7"}});
  EXPECT_TRUE(r429.rate_limited);
  EXPECT_EQ(r429.retry_after_seconds, 7);

  // Canvas: 403 text/plain, X-Rate-Limit-Remaining: 0.0, no Retry-After.
  auto canvas = Answer(403, "403 Forbidden (Rate Limit Exceeded)\n", {{"X-Rate-Limit-Remaining", "0.0"}});
  EXPECT_TRUE(canvas.rate_limited);
  EXPECT_EQ(canvas.rate_limit_remaining, 0.0);
  EXPECT_FALSE(canvas.retry_after_seconds.has_value());
  EXPECT_TRUE(Answer(403, "", {{"X-Rate-Limit-Remaining", "-12.5"}}).rate_limited);
  EXPECT_TRUE(Answer(403, "403 Forbidden (Rate Limit Exceeded)").rate_limited);

  // A plain 403 is not throttling; headers are still read.
  auto plain = Answer(403, "forbidden", {{"X-Rate-Limit-Remaining", "540.25"}, {"X-Request-Cost", "1.5"}});
  EXPECT_FALSE(plain.rate_limited);
  EXPECT_EQ(plain.rate_limit_remaining, 540.25);
  EXPECT_EQ(plain.request_cost, 1.5);
  EXPECT_FALSE(Answer(200, "", {{"X-Rate-Limit-Remaining", "0"}}).rate_limited);
  EXPECT_FALSE(Answer(403, "", {{"X-Rate-Limit-Remaining", "junk"}}).rate_limit_remaining.has_value());
}

TEST(PlatformMessageTest, ExtractsThePlatformsWords) {
  EXPECT_EQ(PlatformMessage(R"({"errors":{"type":"unprocessable_entity","message":"User not found in course or is not a student"}})"),
            "User not found in course or is not a student");
  EXPECT_EQ(PlatformMessage(R"({"errors":[{"message":"a"},{"message":"b"}]})"), "a; b");
  EXPECT_EQ(PlatformMessage(R"({"error":"invalid_scope","error_description":"nope"})"), "invalid_scope: nope");
  EXPECT_EQ(PlatformMessage(R"({"message":"m"})"), "m");
  EXPECT_EQ(PlatformMessage("<html><head><title>502 Bad Gateway</title></head></html>"), "502 Bad Gateway");
  EXPECT_EQ(PlatformMessage("Incorrect score received\n"), "Incorrect score received");
  EXPECT_EQ(PlatformMessage("a\r\n\tb"), "a b");
  EXPECT_EQ(PlatformMessage(""), "");
  EXPECT_EQ(PlatformMessage("{}"), "");
  std::string long_text(1000, 'x');
  EXPECT_EQ(PlatformMessage(long_text, 10), std::string(10, 'x') + "…");
}

struct Case {
  AgsOperation op;
  PlatformFamily family;
  int status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  Classification expected;
  std::string reason;
  std::string diagnosis_contains;  // case-insensitive
};

TEST(ClassifyResponseTest, Table) {
  using enum Classification;
  const auto score = AgsOperation::kPostScore;
  const auto canvas = PlatformFamily::kCanvas;
  const auto moodle = PlatformFamily::kMoodle;
  const auto sakai = PlatformFamily::kSakai;
  const std::vector<Case> cases = {
      // Delivered.
      {score, canvas, 200, R"({"resultUrl":"https://x/results/1"})", {}, kDelivered, "ags.ok", "HTTP 200"},
      {AgsOperation::kCreateLineItem, canvas, 201, "{}", {}, kDelivered, "ags.ok", ""},
      {AgsOperation::kDeleteLineItem, canvas, 204, "", {}, kDelivered, "ags.ok", ""},
      {score, moodle, 200, "", {}, kDelivered, "ags.ok", ""},
      // Moodle: a score not newer than the stored one → already applied.
      {score, moodle, 409, "Refusing score with an earlier timestamp for item 3 and user 5", {}, kAlreadyApplied,
       "ags.already_applied", "at least as new"},
      {score, PlatformFamily::kGeneric, 409, "Refusing score with an earlier timestamp", {}, kAlreadyApplied,
       "ags.already_applied", ""},
      {score, canvas, 409, "conflict", {}, kPermanent, "ags.conflict", "HTTP 409"},
      {AgsOperation::kCreateLineItem, moodle, 409, "", {}, kPermanent, "ags.conflict", ""},
      // Throttling.
      {score, canvas, 429, "", {{"Retry-After", "12"}}, kRateLimited, "ags.rate_limited", "retry after 12 s"},
      {score, canvas, 403, "403 Forbidden (Rate Limit Exceeded)\n", {{"X-Rate-Limit-Remaining", "0.0"}},
       kRateLimited, "ags.rate_limited", "Rate Limit Exceeded"},
      {AgsOperation::kListLineItems, canvas, 403, "", {{"X-Rate-Limit-Remaining", "0"}}, kRateLimited,
       "ags.rate_limited", ""},
      // Transient.
      {score, canvas, 500, "", {}, kRetryable, "ags.platform_unavailable", "HTTP 500"},
      {score, canvas, 502, "<html><title>502 Bad Gateway</title></html>", {}, kRetryable,
       "ags.platform_unavailable", "502 Bad Gateway"},
      {score, canvas, 503, "", {{"Retry-After", "30"}}, kRetryable, "ags.platform_unavailable", "retry after 30 s"},
      {score, canvas, 504, "file url timed out", {}, kRetryable, "ags.platform_unavailable", ""},
      {score, canvas, 408, "", {}, kRetryable, "ags.platform_timeout", ""},
      {score, canvas, 501, "", {}, kPermanent, "ags.unexpected_status", ""},
      // Permanent, with diagnoses.
      {score, canvas, 400,
       R"({"errors":{"type":"bad_request","message":"Provided timestamp of 2023-11-14T22:13:20.123Z before last updated timestamp of 2023-11-14T22:14:00.000Z"}})",
       {}, kPermanent, "ags.newer_score_recorded", "a newer score is already recorded"},
      {score, canvas, 400, R"({"errors":{"type":"bad_request","message":"Provided timestamp of x not a valid timestamp"}})",
       {}, kPermanent, "ags.invalid_timestamp", ""},
      {score, canvas, 422,
       R"({"errors":{"type":"unprocessable_entity","message":"User not found in course or is not a student"}})", {},
       kPermanent, "ags.user_not_in_course", "user is not a student in this course"},
      {score, canvas, 422,
       R"({"errors":{"type":"unprocessable_entity","message":"ScoreMaximum not supplied when ScoreGiven present."}})",
       {}, kPermanent, "ags.score_maximum_missing", "scoreMaximum"},
      {score, canvas, 422,
       R"({"errors":{"type":"unprocessable_entity","message":"This course has concluded. AGS requests will no longer be accepted for this course."}})",
       {}, kPermanent, "ags.course_concluded", "concluded"},
      {score, canvas, 422,
       R"({"errors":{"type":"unprocessable_entity","message":"The maximum number of allowed attempts has been reached for this submission"}})",
       {}, kPermanent, "ags.attempts_exhausted", "attempts"},
      {score, canvas, 422, R"({"errors":{"message":"Score given must be positive"}})", {}, kPermanent,
       "ags.unprocessable", "Score given must be positive"},
      {score, canvas, 404, R"({"errors":{"type":"not_found","message":"The specified resource does not exist."}})",
       {}, kPermanent, "ags.not_found", "line item no longer exists"},
      {AgsOperation::kListLineItems, canvas, 404, "", {}, kPermanent, "ags.not_found", "container was not found"},
      {score, canvas, 412, R"({"errors":{"message":"Tool does not have permission to view line_item"}})", {},
       kPermanent, "ags.not_tool_line_item", "another tool"},
      {score, canvas, 412, R"({"errors":{"message":"precondition"}})", {}, kPermanent, "ags.precondition_failed", ""},
      {score, canvas, 401, R"({"errors":{"type":"unauthorized","message":"Insufficient permissions"}})", {},
       kPermanent, "ags.missing_scope", "missing scope"},
      {score, canvas, 401, R"({"errors":{"type":"unauthorized","message":"Invalid Developer Key"}})", {},
       kPermanent, "ags.unauthorized", "Invalid Developer Key"},
      {score, canvas, 403, "You are not allowed", {}, kPermanent, "ags.forbidden", "HTTP 403"},
      {score, moodle, 400, "Incorrect score received", {}, kPermanent, "ags.score_rejected", "not gradable"},
      {score, moodle, 400, "No handler found for /2/lineitems/3/lineitem/scores application/json", {}, kPermanent,
       "ags.media_type_rejected", "media type"},
      {score, sakai, 400, "Scope score not in access token", {}, kPermanent, "ags.missing_scope", "missing scope"},
      {score, sakai, 400, "User does not belong to site", {}, kPermanent, "ags.user_not_in_course", ""},
      {score, sakai, 400, "Missing userId", {}, kPermanent, "ags.bad_request", "Missing userId"},
      {score, moodle, 405, "", {}, kPermanent, "ags.method_not_allowed", ""},
      {score, canvas, 302, "", {{"Location", "https://lms.test/login"}}, kPermanent, "ags.unexpected_redirect",
       "https://lms.test/login"},
  };
  for (const auto& c : cases) {
    ServiceOutcome o = ClassifyResponse(c.op, c.family, Answer(c.status, c.body, c.headers));
    std::string label = std::to_string(c.status) + " " + c.body;
    EXPECT_EQ(ClassificationName(o.classification), ClassificationName(c.expected)) << label;
    EXPECT_EQ(o.reason, c.reason) << label;
    EXPECT_TRUE(ContainsIgnoreCase(o.diagnosis, c.diagnosis_contains))
        << label << "\n  diagnosis: " << o.diagnosis << "\n  wanted: " << c.diagnosis_contains;
    EXPECT_EQ(o.response.status, c.status);
    EXPECT_EQ(o.ok(), c.expected == kDelivered || c.expected == kAlreadyApplied) << label;
  }
}

TEST(ClassifyResponseTest, A401WithoutAFreshTokenIsRetryableUnlessTheScopeIsMissing) {
  auto o = ClassifyResponse(AgsOperation::kPostScore, PlatformFamily::kCanvas,
                            Answer(401, R"({"errors":{"message":"Access token expired"}})"), /*token_refreshed=*/false);
  EXPECT_EQ(o.classification, Classification::kRetryable);
  EXPECT_EQ(o.reason, "ags.token_rejected");
  EXPECT_TRUE(o.retryable());
  o = ClassifyResponse(AgsOperation::kPostScore, PlatformFamily::kCanvas,
                       Answer(401, R"({"errors":{"message":"Insufficient permissions"}})"), false);
  EXPECT_EQ(o.classification, Classification::kPermanent);
  EXPECT_EQ(o.reason, "ags.missing_scope");
}

TEST(ClassifyFailureTest, TransportTokenAndLocalFailures) {
  using enum Classification;
  struct F {
    Status status;
    bool rate_limited;
    Classification expected;
  };
  const std::vector<F> cases = {
      {Error(Code::kUnavailable, "http.transport", "connection refused"), false, kRetryable},
      {Error(Code::kDeadlineExceeded, "http.timeout", "timed out"), false, kRetryable},
      {Error(Code::kUnavailable, "token.unavailable", "503"), false, kRetryable},
      {Error(Code::kUnavailable, "token.unavailable", "429"), true, kRateLimited},
      {Error(Code::kUnavailable, "token.signing_failed", "no key"), false, kRetryable},
      {Error(Code::kPermissionDenied, "token.invalid_client", "bad key"), false, kPermanent},
      {Error(Code::kPermissionDenied, "token.invalid_scope", "no"), false, kPermanent},
      {Error(Code::kFailedPrecondition, "token.invalid_request", "aud"), false, kPermanent},
      {Error(Code::kPermissionDenied, "service.not_granted", "service not granted: score"), false, kPermanent},
      {Error(Code::kPermissionDenied, "service.host_not_allowed", "evil"), false, kPermanent},
      {Error(Code::kPayloadTooLarge, "http.response_too_large", "big"), false, kPermanent},
  };
  for (const auto& c : cases) {
    ServiceResponse r;
    r.rate_limited = c.rate_limited;
    ServiceOutcome o = ClassifyFailure(AgsOperation::kPostScore, c.status, r);
    EXPECT_EQ(ClassificationName(o.classification), ClassificationName(c.expected)) << c.status.ToString();
    EXPECT_EQ(o.reason, c.status.reason());
    EXPECT_FALSE(o.diagnosis.empty());
  }
  auto o = ClassifyFailure(AgsOperation::kPostScore, Error(Code::kUnavailable, "http.transport", "connection refused"));
  EXPECT_NE(o.diagnosis.find("connection refused"), std::string::npos);
  EXPECT_NE(o.diagnosis.find("post the score"), std::string::npos);
}

}  // namespace
}  // namespace gb::lti
