// Internal to src/jose: the one JSON entry point for untrusted bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace gb::jose::internal {

// Parses `text` as exactly one JSON value, without exceptions. Returns a discarded value
// (is_discarded()) on any error. Stricter than nlohmann::json::parse alone, whose lexer treats a
// NUL byte as end of input and would accept "{}\0anything"; a raw NUL is never valid JSON.
inline nlohmann::json ParseStrictJson(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false,
                               /*ignore_comments=*/false);
}

}  // namespace gb::jose::internal
