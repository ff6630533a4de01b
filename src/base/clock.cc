#include "base/clock.h"

namespace gb {

int64_t Clock::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
}

int64_t Clock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

TimePoint FakeClock::Now() const {
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(now_ns_.load())));
}

void FakeClock::Advance(Duration d) {
  now_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

void FakeClock::Set(TimePoint t) {
  now_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace gb
