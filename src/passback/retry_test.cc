#include "passback/retry.h"

#include <gtest/gtest.h>

namespace gb::passback {
namespace {

using std::chrono::milliseconds;

TEST(RetryDelay, FullJitterStaysUnderTheDoublingCeilingAndTheCap) {
  RetryPolicy p;
  p.base = milliseconds(1000);
  p.cap = milliseconds(8000);
  SeededRandom random(7);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    int64_t ceiling = std::min<int64_t>(8000, 1000LL << (attempt - 1));
    int64_t max_seen = 0;
    for (int i = 0; i < 400; ++i) {
      int64_t d = RetryDelay(p, attempt, std::nullopt, random).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      max_seen = std::max(max_seen, d);
    }
    // Full jitter spreads over the whole window, not just near its bottom.
    EXPECT_GT(max_seen, ceiling / 2) << "attempt " << attempt;
  }
}

TEST(RetryDelay, NeverSoonerThanRetryAfter) {
  RetryPolicy p;
  SeededRandom random(1);
  for (int i = 0; i < 100; ++i) EXPECT_GE(RetryDelay(p, 1, 30, random).count(), 30'000);
}

TEST(RetryDelay, HugeAttemptCountsDoNotOverflow) {
  RetryPolicy p;
  SeededRandom random(3);
  int64_t d = RetryDelay(p, 10'000, std::nullopt, random).count();
  EXPECT_GE(d, 0);
  EXPECT_LE(d, p.cap.count());
}

}  // namespace
}  // namespace gb::passback
