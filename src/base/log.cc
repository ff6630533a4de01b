#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "base/clock.h"
#include "base/strings.h"
#include "base/time_util.h"

namespace gb {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mu;
std::string* g_capture = nullptr;

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) return true;
  }
  return false;
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format = format; }
void SetLogLevel(LogLevel level) { g_level = level; }
void SetLogSink(std::string* capture) {
  std::lock_guard lock(g_mu);
  g_capture = capture;
}

bool ParseLogLevel(std::string_view text, LogLevel& out) {
  if (text == "debug") out = LogLevel::kDebug;
  else if (text == "info") out = LogLevel::kInfo;
  else if (text == "warn") out = LogLevel::kWarn;
  else if (text == "error") out = LogLevel::kError;
  else return false;
  return true;
}

std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view timestamp,
                          std::string_view event, std::initializer_list<LogField> fields) {
  std::string line;
  if (format == LogFormat::kJson) {
    line += "{\"ts\":\"" + JsonEscape(timestamp) + "\",\"level\":\"" + std::string(LevelName(level)) +
            "\",\"event\":\"" + JsonEscape(event) + "\"";
    for (const auto& f : fields) {
      line += ",\"" + JsonEscape(f.key) + "\":\"" + JsonEscape(f.value) + "\"";
    }
    line += "}";
  } else {
    line += std::string(timestamp) + " " + std::string(LevelName(level)) + " " + std::string(event);
    for (const auto& f : fields) {
      line += " " + std::string(f.key) + "=";
      if (NeedsQuoting(f.value)) {
        line += "\"" + JsonEscape(f.value) + "\"";
      } else {
        line += f.value;
      }
    }
  }
  line += '\n';
  return line;
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatLogLine(g_format.load(std::memory_order_relaxed), level,
                                   FormatIso8601Millis(SystemClock::Instance().Now()), event, fields);
  std::lock_guard lock(g_mu);
  if (g_capture) {
    *g_capture += line;
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace gb
