// Time formatting and parsing: RFC 3339 / ISO 8601 in UTC, the form AGS timestamps and our APIs use.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace gb {

// "2026-11-25T08:18:07.123Z" (always milliseconds, always Z).
std::string FormatIso8601Millis(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; nullopt otherwise.
std::optional<TimePoint> ParseIso8601(std::string_view text);

// Human durations for config: "30s", "5m", "2h", "1d", "250ms", or a bare number of seconds.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace gb
