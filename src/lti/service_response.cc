#include "lti/service_response.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/time_util.h"

namespace gb::lti {
namespace {

constexpr int kMaxRetryAfter = 86400;

std::optional<double> ParseDouble(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

nlohmann::json ParseJsonQuietly(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

std::string StringMember(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::string FromJson(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object()) return "";
  // Canvas: {"errors":{"type":"...","message":"..."}} or {"errors":[{"message":"..."}]}
  if (auto it = j.find("errors"); it != j.end()) {
    if (it->is_object()) {
      std::string m = StringMember(*it, "message");
      if (!m.empty()) return m;
    } else if (it->is_array()) {
      std::string joined;
      for (const auto& e : *it) {
        std::string m = e.is_string() ? e.get<std::string>() : StringMember(e, "message");
        if (m.empty()) continue;
        if (!joined.empty()) joined += "; ";
        joined += m;
      }
      if (!joined.empty()) return joined;
    }
  }
  // OAuth 2.0 (RFC 6749 §5.2)
  std::string error = StringMember(j, "error");
  std::string description = StringMember(j, "error_description");
  if (!error.empty() && !description.empty()) return error + ": " + description;
  if (!description.empty()) return description;
  if (!error.empty()) return error;
  if (auto it = j.find("error"); it != j.end() && it->is_object()) {
    std::string m = StringMember(*it, "message");
    if (!m.empty()) return m;
  }
  std::string message = StringMember(j, "message");
  if (!message.empty()) return message;
  return StringMember(j, "reason");
}

std::string HtmlTitle(std::string_view body) {
  std::string lower = ToLower(body.substr(0, std::min<size_t>(body.size(), 16 * 1024)));
  size_t open = lower.find("<title");
  if (open == std::string::npos) return "";
  size_t start = lower.find('>', open);
  if (start == std::string::npos) return "";
  size_t end = lower.find("</title", start);
  if (end == std::string::npos) return "";
  return std::string(body.substr(start + 1, end - start - 1));
}

// Spaces for control characters, collapsed whitespace, cut at max_chars on a UTF-8 boundary.
std::string Clean(std::string_view text, size_t max_chars) {
  std::string out;
  bool space = false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(c);
  }
  if (out.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "…";
  }
  return out;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" → TimePoint.
std::optional<TimePoint> ParseImfFixdate(std::string_view s) {
  s = Trim(s);
  size_t comma = s.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  s = Trim(s.substr(comma + 1));
  // "06 Nov 1994 08:49:37 GMT"
  if (s.size() != 24 || s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s.substr(20) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (EqualsIgnoreCase(s.substr(3, 3), kMonths[i])) month = i + 1;
  }
  if (month == 0) return std::nullopt;
  char iso[32];
  std::snprintf(iso, sizeof iso, "%.4s-%02d-%.2sT%.8sZ", s.data() + 7, month, s.data(), s.data() + 12);
  return ParseIso8601(iso);
}

}  // namespace

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
                          return lower(a) == lower(b);
                        });
  return it != haystack.end();
}

std::optional<int> ParseRetryAfter(std::string_view value, TimePoint now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    auto v = ParseDouble(value);
    if (!v || *v < 0) return std::nullopt;
    return static_cast<int>(std::min<double>(std::ceil(*v), kMaxRetryAfter));
  }
  auto when = ParseImfFixdate(value);
  if (!when) return std::nullopt;
  auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(*when - now).count();
  if (delta <= 0) return 0;
  return static_cast<int>(std::min<int64_t>((delta + 999) / 1000, kMaxRetryAfter));
}

ServiceResponse MakeServiceResponse(std::string url, const http::Response& response, TimePoint now) {
  ServiceResponse out;
  out.url = std::move(url);
  out.status = response.status;
  out.headers = response.headers;
  out.body = response.body;
  if (auto ra = response.headers.Get("Retry-After")) out.retry_after_seconds = ParseRetryAfter(*ra, now);
  if (auto rem = response.headers.Get("X-Rate-Limit-Remaining")) out.rate_limit_remaining = ParseDouble(*rem);
  if (auto cost = response.headers.Get("X-Request-Cost")) out.request_cost = ParseDouble(*cost);
  out.rate_limited =
      response.status == 429 ||
      (response.status == 403 && ((out.rate_limit_remaining && *out.rate_limit_remaining <= 0) ||
                                  ContainsIgnoreCase(response.body, "Rate Limit Exceeded")));
  return out;
}

std::string PlatformMessage(std::string_view body, size_t max_chars) {
  std::string_view trimmed = Trim(body);
  if (trimmed.empty()) return "";
  std::string text;
  if (trimmed.front() == '{' || trimmed.front() == '[' || trimmed.front() == '"') {
    auto j = ParseJsonQuietly(trimmed);
    if (!j.is_discarded()) {
      text = FromJson(j);
      if (text.empty()) return "";
    } else {
      text = std::string(trimmed);
    }
  } else if (trimmed.front() == '<') {
    text = HtmlTitle(trimmed);
  } else {
    text = std::string(trimmed);
  }
  return Clean(text, max_chars);
}

}  // namespace gb::lti
