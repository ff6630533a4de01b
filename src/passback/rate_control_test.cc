#include "passback/rate_control.h"

#include <gtest/gtest.h>

namespace gb::passback {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TimePoint T(int64_t ms) { return TimePoint(milliseconds(1'700'000'000'000 + ms)); }

int AcquireAll(RateController& rc, const std::string& key, TimePoint now) {
  int n = 0;
  while (rc.TryAcquire(key, now)) ++n;
  return n;
}

TEST(RateController, StartsAtTheInitialLimitAndKeysAreIndependent) {
  RateController rc({.initial_limit = 4});
  EXPECT_EQ(AcquireAll(rc, "a", T(0)), 4);
  EXPECT_EQ(AcquireAll(rc, "b", T(0)), 4);
  rc.Release("a", AttemptSignal::kSuccess, T(1));
  EXPECT_TRUE(rc.TryAcquire("a", T(1)));
}

TEST(RateController, SuccessProbesUpByAboutOnePerRound) {
  RateController rc({.initial_limit = 4, .max_limit = 6});
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(rc.TryAcquire("k", T(0)));
    rc.Release("k", AttemptSignal::kSuccess, T(0));
  }
  EXPECT_NEAR(rc.State("k").limit, 5, 0.1);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(rc.TryAcquire("k", T(0)));
    rc.Release("k", AttemptSignal::kSuccess, T(0));
  }
  EXPECT_EQ(rc.State("k").limit, 6);  // capped
}

TEST(RateController, ThrottlingHalvesOncePerIntervalAndPauses) {
  RateController rc({.initial_limit = 16, .decrease_interval = seconds(1), .throttle_pause = seconds(2)});
  ASSERT_EQ(AcquireAll(rc, "k", T(0)), 16);
  // A burst of throttled answers to requests already in flight is one signal.
  for (int i = 0; i < 5; ++i) rc.Release("k", AttemptSignal::kThrottled, T(10));
  EXPECT_EQ(rc.State("k").limit, 8);
  EXPECT_FALSE(rc.TryAcquire("k", T(1000)));  // paused (no Retry-After: throttle_pause)
  EXPECT_EQ(*rc.PausedUntil("k", T(1000)), T(2010));
  for (int i = 0; i < 11; ++i) rc.Release("k", AttemptSignal::kSuccess, T(2010));
  EXPECT_TRUE(rc.TryAcquire("k", T(2010)));
  rc.Release("k", AttemptSignal::kThrottled, T(2500), 30);  // Retry-After wins
  EXPECT_LT(rc.State("k").limit, 5);  // halved again from the ~9 it had grown back to
  EXPECT_EQ(*rc.PausedUntil("k", T(2500)), T(32500));
  EXPECT_FALSE(rc.PausedUntil("k", T(32500)).has_value());
}

TEST(RateController, NeverBelowTheMinimum) {
  RateController rc({.initial_limit = 2, .min_limit = 1, .decrease_interval = milliseconds(0)});
  for (int i = 0; i < 10; ++i) rc.Release("k", AttemptSignal::kThrottled, T(i));
  EXPECT_EQ(rc.State("k").limit, 1);
}

TEST(RateController, LowBucketHoldsOneInFlightAndStopsGrowth) {
  RateController rc({.initial_limit = 8, .low_remaining = 150});
  ASSERT_TRUE(rc.TryAcquire("k", T(0)));
  rc.Release("k", AttemptSignal::kSuccess, T(0), std::nullopt, 120.0);
  double limit = rc.State("k").limit;
  EXPECT_EQ(AcquireAll(rc, "k", T(1)), 1);
  rc.Release("k", AttemptSignal::kSuccess, T(2), std::nullopt, 100.0);
  EXPECT_EQ(rc.State("k").limit, limit);  // no growth while the bucket is low
  // The bucket refilled: full concurrency again.
  ASSERT_TRUE(rc.TryAcquire("k", T(3)));
  rc.Release("k", AttemptSignal::kSuccess, T(3), std::nullopt, 600.0);
  EXPECT_EQ(AcquireAll(rc, "k", T(4)), 8);
}

}  // namespace
}  // namespace gb::passback
