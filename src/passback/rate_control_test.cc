#include "passback/rate_control.h"

#include <gtest/gtest.h>

#include <vector>

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

// A Canvas-style leaky bucket driven through the controller in simulated time: requests take
// 20 ms, the bucket holds 700 units and leaks 1,000/s, each request costs 50–100. The controller
// must find the sustainable rate (leak / mean cost ≈ 13.3/s) and almost never be refused.
TEST(RateController, PacesALeakyBucketToItsDrainRate) {
  RateController rc({.initial_limit = 8, .max_limit = 64});
  const double capacity = 700, leak = 1000;
  double level = 0;
  TimePoint last_leak = T(0);
  uint64_t rng = 12345;
  auto next_cost = [&] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return 50.0 + static_cast<double>((rng >> 33) % 51);
  };
  struct InFlight {
    TimePoint done;
    bool refused;
    double remaining, cost;
  };
  std::vector<InFlight> flying;
  int admitted = 0, refused = 0;
  for (int64_t ms = 0; ms < 60'000; ++ms) {
    TimePoint now = T(ms);
    level = std::max(0.0, level - leak * std::chrono::duration<double>(now - last_leak).count());
    last_leak = now;
    for (auto it = flying.begin(); it != flying.end();) {
      if (it->done > now) {
        ++it;
        continue;
      }
      if (it->refused) rc.Release("canvas", AttemptSignal::kThrottled, now, std::nullopt, 0.0);
      else rc.Release("canvas", AttemptSignal::kSuccess, now, std::nullopt, it->remaining, it->cost);
      it = flying.erase(it);
    }
    while (rc.TryAcquire("canvas", now)) {
      InFlight f{now + milliseconds(20), level >= capacity, 0, 0};
      if (f.refused) {
        ++refused;
      } else {
        f.cost = next_cost();
        level += f.cost;
        f.remaining = std::max(0.0, capacity - level);
        ++admitted;
      }
      flying.push_back(f);
    }
  }
  double allowed = leak / 75.0 * 60;  // requests the bucket can sustain in a minute (+ the first fill)
  EXPECT_GE(admitted, 0.95 * allowed) << "admitted " << admitted << " refused " << refused;
  EXPECT_LT(refused, 0.01 * (admitted + refused)) << "admitted " << admitted << " refused " << refused;
}

}  // namespace
}  // namespace gb::passback
