// When to try a score again: exponential backoff with full jitter, never sooner than the
// platform asked (Retry-After), and the attempt budget after which a transient failure becomes
// `failed`. Pure; the caller supplies the randomness.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "base/random.h"

namespace gb::passback {

struct RetryPolicy {
  // Attempts that may fail transiently before the score is `failed` (default 1 + 5 retries).
  // Throttled answers (429, Canvas's 403 rate limit) do not count: the platform is healthy and
  // asking for patience, and giving up a grade because an LMS was busy during an exam is the
  // failure this engine exists to prevent. Retry-After and rate control bound them instead.
  int max_attempts = 6;
  std::chrono::milliseconds base{1'000};
  std::chrono::milliseconds cap{300'000};
  // Pause after a throttled answer that carried no Retry-After (Canvas sends none).
  std::chrono::milliseconds throttle_pause{2'000};
};

// Delay before the next attempt after `failed_attempts` transient failures (1 for the first):
// uniform in [0, min(cap, base * 2^(failed_attempts - 1))] ("full jitter"), then raised to the
// platform's Retry-After when it asked for longer.
std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int failed_attempts,
                                     std::optional<int> retry_after_seconds, Random& random);

}  // namespace gb::passback
