// ServiceResponse: one HTTP exchange with a platform service (AGS, NRPS) or its OAuth2 token
// endpoint, reduced to what callers need to classify the outcome and to pace themselves
// (Retry-After, Canvas's X-Rate-Limit-Remaining / X-Request-Cost, throttling detection).
// It never holds the access token or the client assertion: only response data is kept, and the
// token client fills one only for failed token requests.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "http/message.h"

namespace gb::lti {

struct ServiceResponse {
  std::string url;   // the request URL (for paged calls: the last page requested)
  int status = 0;    // HTTP status; 0 when no answer was received (transport failure, not sent)
  http::Headers headers;
  std::string body;  // as received (bounded by the HttpClient)
  // Retry-After as delta-seconds or an HTTP-date, clamped to [0, 86400]; absent when not sent
  // or unparsable.
  std::optional<int> retry_after_seconds;
  std::optional<double> rate_limit_remaining;  // X-Rate-Limit-Remaining (Canvas)
  std::optional<double> request_cost;          // X-Request-Cost (Canvas)
  // 429; or 403 with X-Rate-Limit-Remaining <= 0 or a body containing "Rate Limit Exceeded"
  // (Canvas throttles with 403 text/plain and no Retry-After, platforms.md A8).
  bool rate_limited = false;
};

// Builds a ServiceResponse from an HTTP answer; `now` resolves an HTTP-date Retry-After.
ServiceResponse MakeServiceResponse(std::string url, const http::Response& response, TimePoint now);

// Retry-After value: delta-seconds ("120", tolerating a fraction, rounded up) or an IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT", seconds from `now`, 0 when past). Clamped to [0, 86400].
std::optional<int> ParseRetryAfter(std::string_view value, TimePoint now);

// The platform's own words from an error body, for diagnoses: Canvas {"errors":{"message"}} and
// {"errors":[{"message"}]}, OAuth {"error","error_description"}, {"message"} / {"error": "text"},
// an HTML page's <title>, or plain text. Control characters become spaces; at most max_chars
// (cut with "…"). Empty when there is nothing useful.
std::string PlatformMessage(std::string_view body, size_t max_chars = 300);

// True when `haystack` contains `needle`, ASCII case-insensitively.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);

}  // namespace gb::lti
