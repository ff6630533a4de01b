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
  // Near the bottom of a Canvas bucket, one request at a time: each answer reports the refill,
  // so the key keeps sending exactly as fast as the bucket drains.
  if (s.last_remaining && *s.last_remaining < options_.low_remaining) return 1;
  return std::floor(s.limit);
}

bool RateController::TryAcquire(const std::string& key, TimePoint now) {
  RateKeyState& s = Get(key);
  if (now < s.paused_until) return false;
  if (s.in_flight >= EffectiveLimit(s)) return false;
  ++s.in_flight;
  return true;
}

void RateController::Release(const std::string& key, AttemptSignal signal, TimePoint now,
                             std::optional<int> retry_after_seconds, std::optional<double> rate_limit_remaining) {
  RateKeyState& s = Get(key);
  if (s.in_flight > 0) --s.in_flight;
  if (rate_limit_remaining) s.last_remaining = rate_limit_remaining;
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
      auto pause = retry_after_seconds ? std::chrono::duration_cast<Duration>(std::chrono::seconds(*retry_after_seconds))
                                       : std::chrono::duration_cast<Duration>(options_.throttle_pause);
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
