// Clock: the only source of "now" in gradebridge. Inject it; never call system_clock directly
// in logic that tests need to control (token expiry, leeway, backoff).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gb {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  int64_t NowSeconds() const;  // seconds since the Unix epoch
  int64_t NowMillis() const;   // milliseconds since the Unix epoch
};

// Wall-clock time. Thread-safe; use SystemClock::Instance() for the process-wide one.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& Instance();
};

// A clock tests move by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)))
      : now_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}
  TimePoint Now() const override;
  void Advance(Duration d);
  void Set(TimePoint t);

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace gb
