// Logging facade: one line per event, as human text or as JSON lines (log_format in config).
// Fields are structured so JSON logs can be queried; values are escaped, never interpreted.
// Contract: never pass a token, secret, key or whole id_token as a field value.
#pragma once

#include <initializer_list>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>

namespace gb {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  LogField(std::string_view k, N n) : key(k), value(std::to_string(n)) {}
};

// Process-wide settings; call once at start. Thread-safe to log from any thread.
void SetLogFormat(LogFormat format);
void SetLogLevel(LogLevel level);
// Redirect output (tests); nullptr restores stderr.
void SetLogSink(std::string* capture);
bool ParseLogLevel(std::string_view text, LogLevel& out);

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
inline void LogDebug(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kDebug, e, f); }
inline void LogInfo(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, e, f); }
inline void LogWarn(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarn, e, f); }
inline void LogError(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, e, f); }

// Renders one line without emitting it (exposed for tests).
std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view timestamp,
                          std::string_view event, std::initializer_list<LogField> fields);

}  // namespace gb
