// Fault injection for the simulator's service endpoints (token endpoint and AGS): latency,
// random 429 (with Retry-After) and 500 answers, dropped connections, access tokens that expire
// earlier than their expires_in, and Canvas's leaky-bucket rate limit per client_id.
//
// Switchable at run time (POST /sim/api/faults, see docs/simulator.md); launches, the auth
// endpoint and the JWKS are never affected. Thread-safe.
//
// Order in which a metered request meets the faults:
//   1. latency (sleep latency_ms + uniform[0, latency_jitter_ms])
//   2. dropped connection (drop_probability)    -> DropConnectionResponse()
//   3. 429 (error_429_probability)              -> 429 + Retry-After: retry_after_seconds
//   4. leaky bucket (rate_limit.enabled)        -> 403 text/plain "403 Forbidden (Rate Limit Exceeded)"
//   5. 500 (error_500_probability)              -> 500
//   6. the endpoint itself
// Requests admitted by the bucket carry X-Request-Cost and X-Rate-Limit-Remaining (4 and later).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "http/message.h"

namespace gb::sim {

// "Close the connection without answering": DropConnectionResponse() sets
// http::Response::drop_connection, which server::HttpServer honours over sockets, and this header,
// which InProcessHttpClient honours (the caller gets an "http.transport" error either way).
inline constexpr char kDropConnectionHeader[] = "X-Sim-Drop-Connection";
http::Response DropConnectionResponse();
bool IsDropConnection(const http::Response& response);

struct RateLimitConfig {
  bool enabled = false;
  double capacity = 700;         // Canvas's high-water mark; full bucket -> 403
  double leak_per_second = 10;   // outflow
  double cost_min = 50;          // each metered request costs uniform[cost_min, cost_max]
  double cost_max = 100;
  double token_surcharge = 200;  // added on token requests (oauth_token_additional_request_cost)
};

struct FaultConfig {
  int64_t latency_ms = 0;
  int64_t latency_jitter_ms = 0;
  double error_429_probability = 0;
  int64_t retry_after_seconds = 1;
  double error_500_probability = 0;
  double drop_probability = 0;
  // When set, access tokens stop working this many seconds after issue (401 on service calls)
  // although the token response still says expires_in 3600. Applies to tokens already issued.
  std::optional<int64_t> token_lifetime_seconds;
  RateLimitConfig rate_limit;
};

nlohmann::json FaultConfigToJson(const FaultConfig& config);
// Merges `patch` (a JSON object with any subset of FaultConfigToJson's members) into `config`.
// Unknown members, wrong types and out-of-range values are errors ("sim.invalid_faults"); on
// error `config` is unchanged.
Status MergeFaultConfig(const nlohmann::json& patch, FaultConfig& config);

struct FaultCounters {
  uint64_t requests = 0;          // metered requests seen (token + AGS)
  uint64_t delayed = 0;
  uint64_t delay_ms_total = 0;
  uint64_t dropped = 0;
  uint64_t http_429 = 0;
  uint64_t http_500 = 0;
  uint64_t rate_limited = 0;      // 403 from the leaky bucket
  uint64_t early_token_expiry = 0;
};

enum class MeteredKind { kToken, kService };

class FaultInjector {
 public:
  using Sleeper = std::function<void(std::chrono::milliseconds)>;
  using Uniform01 = std::function<double()>;  // uniform in [0, 1)

  // `clock` must outlive the injector. Null sleeper: std::this_thread::sleep_for.
  FaultInjector(const Clock& clock, Uniform01 uniform, Sleeper sleeper = nullptr);

  FaultConfig config() const;
  void SetConfig(FaultConfig config);
  // Applies a JSON patch (see MergeFaultConfig). Members "reset" (true: start from no faults,
  // zero the counters, empty the buckets) and "reset_counters" are handled here.
  Status Apply(const nlohmann::json& patch);
  FaultCounters counters() const;
  // {"config": {...}, "counters": {...}, "buckets": {client: {"level", "remaining"}}}
  nlohmann::json ToJson() const;

  // What Admit() decided for a request that went on to the endpoint.
  struct Ticket {
    bool metered = false;   // the bucket is on: Decorate() adds the rate headers
    double cost = 0;
    double remaining = 0;
  };
  // Runs steps 1-5 for one request of `client_key` (a client_id, or a stand-in for requests
  // whose client is unknown). Returns the response to send instead of the endpoint's, if any.
  std::optional<http::Response> Admit(std::string_view client_key, MeteredKind kind, Ticket& ticket);
  // Adds X-Request-Cost and X-Rate-Limit-Remaining to an admitted request's answer.
  static void Decorate(http::Response& response, const Ticket& ticket);

  // True when a token issued at `issued_ms` is dead under token_lifetime_seconds although its
  // real expiry has not passed; counts it.
  bool ExpiredEarly(int64_t issued_ms, int64_t real_expiry_ms, int64_t now_ms);

 private:
  struct Bucket {
    double level = 0;
    int64_t updated_ms = 0;
  };
  void LeakLocked(Bucket& bucket, int64_t now_ms) const;

  const Clock& clock_;
  Uniform01 uniform_;
  Sleeper sleeper_;
  mutable std::mutex mu_;
  FaultConfig config_;
  FaultCounters counters_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

// "%.1f"-style formatting used for the rate headers ("0.0", "612.5").
std::string FormatRateNumber(double value);

}  // namespace gb::sim
