#include "base/time_util.h"

#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"

namespace gb {
namespace {

using namespace std::chrono;

TEST(TimeTest, FormatsMillisecondsUtc) {
  TimePoint t{milliseconds(1'700'000'000'123)};
  EXPECT_EQ(FormatIso8601Millis(t), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatIso8601Millis(TimePoint{}), "1970-01-01T00:00:00.000Z");
}

TEST(TimeTest, ParsesOffsetsAndFractions) {
  auto a = ParseIso8601("2023-11-14T22:13:20.123Z");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(duration_cast<milliseconds>(a->time_since_epoch()).count(), 1'700'000'000'123);
  auto b = ParseIso8601("2023-11-14T23:13:20+01:00");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(duration_cast<seconds>(b->time_since_epoch()).count(), 1'700'000'000);
  EXPECT_FALSE(ParseIso8601("2023-11-14 22:13:20Z").has_value());
  EXPECT_FALSE(ParseIso8601("2023-11-14T22:13:20").has_value());
  EXPECT_FALSE(ParseIso8601("2023-13-14T22:13:20Z").has_value());
}

TEST(TimeTest, Durations) {
  EXPECT_EQ(ParseDuration("30s")->count(), 30'000);
  EXPECT_EQ(ParseDuration("5m")->count(), 300'000);
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("60")->count(), 60'000);
  EXPECT_FALSE(ParseDuration("x").has_value());
  EXPECT_FALSE(ParseDuration("5y").has_value());
}

TEST(ClockTest, FakeClockMoves) {
  FakeClock clock;
  int64_t start = clock.NowSeconds();
  clock.Advance(seconds(90));
  EXPECT_EQ(clock.NowSeconds(), start + 90);
}

TEST(RandomTest, SecureRandomDiffersAndHasRightLength) {
  auto& r = SecureRandom::Instance();
  std::string a = r.Hex(16), b = r.Hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(r.Token(32).size(), 43u);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.Uniform(7), 7u);
}

TEST(RandomTest, SeededIsDeterministic) {
  SeededRandom a(42), b(42);
  EXPECT_EQ(a.Hex(8), b.Hex(8));
}

TEST(LogTest, TextAndJsonLines) {
  std::string text = FormatLogLine(LogFormat::kText, LogLevel::kInfo, "T", "launch.ok",
                                   {{"iss", "https://x"}, {"reason", "two words"}, {"n", 3}});
  EXPECT_EQ(text, "T info launch.ok iss=https://x reason=\"two words\" n=3\n");
  std::string json = FormatLogLine(LogFormat::kJson, LogLevel::kWarn, "T", "e", {{"k", "a\"b"}});
  EXPECT_EQ(json, "{\"ts\":\"T\",\"level\":\"warn\",\"event\":\"e\",\"k\":\"a\\\"b\"}\n");
  std::string captured;
  SetLogSink(&captured);
  LogInfo("hello", {{"x", "1"}});
  LogDebug("hidden");
  SetLogSink(nullptr);
  EXPECT_NE(captured.find("hello x=1"), std::string::npos);
  EXPECT_EQ(captured.find("hidden"), std::string::npos);
}

}  // namespace
}  // namespace gb
