// Adaptive concurrency per rate key (platform API host + client_id): how many deliveries may be
// in flight to one platform, learnt from its answers (DESIGN §7).
//
//   - additive increase: each success adds 1/limit, so the limit grows by about one per
//     round of `limit` successes, up to max_limit ("probe back up");
//   - multiplicative decrease: a throttled answer halves the limit (at most once per
//     decrease_interval, so one burst of throttled replies to requests already in flight counts as
//     one signal) and pauses the key for Retry-After, or throttle_pause when none was sent;
//   - a Canvas-style leaky bucket (X-Rate-Limit-Remaining and X-Request-Cost on each answer) is
//     paced: the controller estimates the bucket's leak rate from how `remaining` moves against
//     the costs charged (over windows of at least bucket_window, only while the bucket is not
//     empty), predicts what is left now (last remaining + leak × elapsed − the cost of requests in
//     flight) and holds the key until at least bucket_margin × the mean cost is left. The
//     platform is then asked at the rate it drains, and rarely refuses. Until a leak estimate
//     exists, a bucket below low_remaining holds the key at one request in flight.
//
// Not thread-safe: the dispatcher calls it under its own lock.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "base/clock.h"

namespace gb::passback {

struct RateControlOptions {
  double initial_limit = 8;
  double min_limit = 1;
  double max_limit = 64;
  double decrease_factor = 0.5;
  std::chrono::milliseconds decrease_interval{1'000};
  std::chrono::milliseconds throttle_pause{2'000};
  double low_remaining = 150;  // Canvas bucket units (a request costs ~50–100 of its 700)
  std::chrono::milliseconds bucket_window{1'000};
  double bucket_margin = 1.5;  // keep this many mean request costs in hand
  std::chrono::milliseconds bucket_probe_interval{50};  // re-check while the leak is unknown
};

enum class AttemptSignal { kSuccess, kThrottled, kOtherFailure };

struct RateKeyState {
  double limit = 0;
  int in_flight = 0;
  TimePoint paused_until{};
  TimePoint last_decrease{};
  int64_t throttled = 0;
  int64_t succeeded = 0;
  // Leaky-bucket model (Canvas), from the platform's headers.
  std::optional<double> last_remaining;
  TimePoint last_remaining_at{};
  double max_remaining = 0;   // the largest remaining seen: about the bucket's capacity
  double mean_cost = 0;       // moving average of X-Request-Cost
  std::optional<double> leak_per_second;
  TimePoint window_start{};
  std::optional<double> window_start_remaining;
  double window_cost = 0;     // costs charged since window_start
};

class RateController {
 public:
  explicit RateController(RateControlOptions options = {}) : options_(options) {}

  // Counts one request in flight and returns true when `key` may send one now.
  bool TryAcquire(const std::string& key, TimePoint now);
  // Ends a request started with TryAcquire.
  void Release(const std::string& key, AttemptSignal signal, TimePoint now,
               std::optional<int> retry_after_seconds = std::nullopt,
               std::optional<double> rate_limit_remaining = std::nullopt,
               std::optional<double> request_cost = std::nullopt);
  // When `key` may send again if it is paused; nullopt when it is not paused at `now`.
  std::optional<TimePoint> PausedUntil(const std::string& key, TimePoint now) const;

  RateKeyState State(const std::string& key) const;
  const RateControlOptions& options() const { return options_; }

 private:
  RateKeyState& Get(const std::string& key);
  double EffectiveLimit(const RateKeyState& s) const;
  void ObserveBucket(RateKeyState& s, TimePoint now, double remaining, std::optional<double> cost);
  // How long until the modelled bucket has room for one more request; zero when it has now.
  Duration BucketWait(const RateKeyState& s, TimePoint now) const;

  RateControlOptions options_;
  std::map<std::string, RateKeyState> keys_;
};

}  // namespace gb::passback
