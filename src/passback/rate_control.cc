#include "passback/rate_control.h"

#include <algorithm>
#include <cmath>

namespace gb::passback {

RateKeyState& RateController::Get(const std::string& key) {
  auto [it, inserted] = keys_.try_emplace(key);
  if (inserted) it->second.limit = options_.initial_limit;
  return it->second;
}

double RateController::EffectiveLimit(const RateKeyState& s) const {
  // Near the bottom of a Canvas bucket whose leak is not known yet, one request at a time.
  if (!s.leak_per_second && s.last_remaining && *s.last_remaining < options_.low_remaining) return 1;
  return std::floor(s.limit);
}

void RateController::ObserveBucket(RateKeyState& s, TimePoint now, double remaining, std::optional<double> cost) {
  if (cost && *cost > 0) {
    s.mean_cost = s.mean_cost == 0 ? *cost : 0.8 * s.mean_cost + 0.2 * *cost;
    s.window_cost += *cost;
  }
  s.max_remaining = std::max(s.max_remaining, remaining);
  if (!s.window_start_remaining) {
    s.window_start = now;
    s.window_start_remaining = remaining;
    s.window_cost = 0;
  } else if (now - s.window_start >= options_.bucket_window) {
    double seconds = std::chrono::duration<double>(now - s.window_start).count();
    // An empty bucket (remaining at its maximum) stops leaking, which would understate the rate;
    // such windows teach nothing.
    double full = s.max_remaining - 1;
    if (*s.window_start_remaining < full && remaining < full && s.window_cost > 0) {
      double sample = (remaining - *s.window_start_remaining + s.window_cost) / seconds;
      if (sample > 0) s.leak_per_second = s.leak_per_second ? 0.7 * *s.leak_per_second + 0.3 * sample : sample;
    }
    s.window_start = now;
    s.window_start_remaining = remaining;
    s.window_cost = 0;
  }
  s.last_remaining = remaining;
  s.last_remaining_at = now;
}

Duration RateController::BucketWait(const RateKeyState& s, TimePoint now) const {
  if (!s.last_remaining || s.mean_cost <= 0) return Duration::zero();
  // Until the leak is known it counts as zero: what is left is what the last answer said, minus
  // what is in flight. That is conservative, and answers keep correcting it.
  double leak = s.leak_per_second.value_or(0);
  double elapsed = std::chrono::duration<double>(now - s.last_remaining_at).count();
  double predicted = std::min(s.max_remaining, *s.last_remaining + leak * elapsed) - s.in_flight * s.mean_cost;
  double wanted = options_.bucket_margin * s.mean_cost;
  if (predicted >= wanted) return Duration::zero();
  if (leak <= 0) {
    // Nothing in flight to report the refill: probe with one request after a short wait.
    return s.in_flight == 0 ? Duration::zero()
                            : std::chrono::duration_cast<Duration>(options_.bucket_probe_interval);
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>((wanted - predicted) / leak));
}

bool RateController::TryAcquire(const std::string& key, TimePoint now) {
  RateKeyState& s = Get(key);
  if (now < s.paused_until) return false;
  if (s.in_flight >= EffectiveLimit(s)) return false;
  if (Duration wait = BucketWait(s, now); wait > Duration::zero()) {
    // Not a throttle: the bucket needs a moment. The dispatcher wakes up when it has refilled.
    s.paused_until = now + wait;
    return false;
  }
  ++s.in_flight;
  return true;
}

void RateController::Release(const std::string& key, AttemptSignal signal, TimePoint now,
                             std::optional<int> retry_after_seconds, std::optional<double> rate_limit_remaining,
                             std::optional<double> request_cost) {
  RateKeyState& s = Get(key);
  if (s.in_flight > 0) --s.in_flight;
  if (rate_limit_remaining) ObserveBucket(s, now, *rate_limit_remaining, request_cost);
  switch (signal) {
    case AttemptSignal::kSuccess:
      ++s.succeeded;
      if (!s.last_remaining || *s.last_remaining >= options_.low_remaining) {
        s.limit = std::min(options_.max_limit, s.limit + 1.0 / std::max(s.limit, 1.0));
      }
      break;
    case AttemptSignal::kThrottled: {
      ++s.throttled;
      if (now - s.last_decrease >= options_.decrease_interval) {
        s.limit = std::max(options_.min_limit, s.limit * options_.decrease_factor);
        s.last_decrease = now;
      }
      Duration pause = retry_after_seconds
                           ? std::chrono::duration_cast<Duration>(std::chrono::seconds(*retry_after_seconds))
                           : std::chrono::duration_cast<Duration>(options_.throttle_pause);
      // A bucket refills one request's worth sooner than a blind pause: wait that long when the
      // leak is known, and only briefly while it is being learnt (a bucket left to empty
      // completely teaches nothing about its leak).
      if (!retry_after_seconds && s.mean_cost > 0) {
        Duration refill = s.leak_per_second
                              ? std::chrono::duration_cast<Duration>(std::chrono::duration<double>(
                                    options_.bucket_margin * s.mean_cost / *s.leak_per_second))
                              : std::chrono::duration_cast<Duration>(options_.bucket_probe_interval * 4);
        pause = std::min(pause, refill);
      }
      s.paused_until = std::max(s.paused_until, now + pause);
      // A throttled answer says the bucket is empty whatever the last success reported.
      if (!rate_limit_remaining) s.last_remaining.reset();
      break;
    }
    case AttemptSignal::kOtherFailure:
      break;
  }
}

std::optional<TimePoint> RateController::PausedUntil(const std::string& key, TimePoint now) const {
  auto it = keys_.find(key);
  if (it == keys_.end() || now >= it->second.paused_until) return std::nullopt;
  return it->second.paused_until;
}

RateKeyState RateController::State(const std::string& key) const {
  auto it = keys_.find(key);
  if (it != keys_.end()) return it->second;
  RateKeyState s;
  s.limit = options_.initial_limit;
  return s;
}

}  // namespace gb::passback
