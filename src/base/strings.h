// String helpers shared by every layer: encodings (hex, base64, base64url, percent, form),
// HTML escaping, and small utilities. All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gb {

std::string HexEncode(std::string_view bytes);

// RFC 4648 §4 standard base64 with padding (OAuth 1.0a signatures, body hashes).
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// RFC 4648 §5 base64url without padding (JOSE). Decoding accepts unpadded input only and rejects
// '+', '/', '=', whitespace and non-canonical trailing bits.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// RFC 3986 percent-encoding of everything but unreserved characters (ALPHA DIGIT - . _ ~).
// This is also exactly RFC 5849 §3.6 encoding.
std::string PercentEncode(std::string_view text);
// Decodes %XX; when `plus_is_space` (application/x-www-form-urlencoded), '+' becomes ' '.
// Returns nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

using FormFields = std::vector<std::pair<std::string, std::string>>;
// Parses application/x-www-form-urlencoded (also a URL query). nullopt on a malformed escape.
std::optional<FormFields> ParseForm(std::string_view body);
std::string EncodeForm(const FormFields& fields);
// First value for `key`, if any.
std::optional<std::string> FormValue(const FormFields& fields, std::string_view key);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);
// Escapes a string for inclusion inside a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);

// A grade or points value for people: at most six decimals, no trailing zeros ("6.75", "10").
std::string FormatDecimal(double value);

std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);

// Compares in time independent of where the inputs differ (secrets, MACs, states).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gb
