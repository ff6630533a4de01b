// HttpClient: the port through which every outbound request leaves gradebridge (platform JWKS,
// token endpoints, AGS, NRPS, LTI 1.1 outcomes). Implemented by http/curl/; tests may fake it.
//
// Contract for implementations:
//   - TLS peer and host verification are always on for https; plain http and loopback targets
//     are refused unless `allow_insecure` was set when the client was made (dev mode);
//   - connect and total timeouts are bounded (per request, with defaults);
//   - a transport failure (DNS, refused, reset, timeout, TLS) is a non-OK Status with reason
//     "http.transport" (or "http.timeout"); any HTTP status, 4xx/5xx included, is an OK Result;
//   - response bodies are bounded (max_response_bytes) and over-long ones fail with
//     reason "http.response_too_large";
//   - every request carries a User-Agent naming gradebridge and its version unless one is set.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/status.h"
#include "http/message.h"

namespace gb::http {

struct RequestOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{30'000};
  size_t max_response_bytes = 8 * 1024 * 1024;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Blocking call; thread-safe (many threads may call at once).
  virtual Result<Response> Send(const Request& request, const RequestOptions& options = {}) = 0;

  // Non-blocking: `done` runs later on the client's I/O thread; it must not block. Many requests
  // may be in flight at once without a thread each.
  using Callback = std::function<void(Result<Response>)>;
  virtual void SendAsync(Request request, RequestOptions options, Callback done) = 0;
};

inline constexpr std::string_view kUserAgent = "gradebridge/0.1.0 (+https://github.com/gradebridge)";

}  // namespace gb::http
