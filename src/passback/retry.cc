#include "passback/retry.h"

#include <algorithm>

namespace gb::passback {

std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int failed_attempts,
                                     std::optional<int> retry_after_seconds, Random& random) {
  int64_t ceiling = std::max<int64_t>(policy.base.count(), 1);
  // Doubling stops at the cap; the shift bound keeps it from overflowing on huge attempt counts.
  for (int i = 1; i < failed_attempts && ceiling < policy.cap.count() && i < 62; ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, policy.cap.count());
  int64_t delay = static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(ceiling) + 1));
  if (retry_after_seconds) delay = std::max<int64_t>(delay, int64_t{*retry_after_seconds} * 1000);
  return std::chrono::milliseconds(delay);
}

}  // namespace gb::passback
