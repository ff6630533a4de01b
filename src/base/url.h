// Url: a parsed absolute http(s) URL. Parsing is deliberately strict (no userinfo, no spaces, no
// control characters) because every URL we parse either came from an untrusted party or is about
// to receive a request carrying credentials.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gb {

struct Url {
  std::string scheme;  // lowercased: "http" or "https"
  std::string host;    // lowercased; IPv6 literals keep their brackets
  uint16_t port = 0;   // explicit or the scheme's default
  bool explicit_port = false;
  std::string path;    // "/" when empty
  std::string query;   // without '?'; empty when absent
  std::string fragment;

  static Result<Url> Parse(std::string_view text);

  // "https://host[:port]" — the origin used for host allow-lists and postMessage targets.
  std::string Origin() const;
  // "host:port" as used for rate-limit and connection keys.
  std::string Authority() const;
  // Path plus "?query" when present.
  std::string Target() const;
  std::string ToString() const;

  // Returns the URL with `segment` appended to the path, before any query (AGS: line item URL
  // "…/lineitem?type_id=1" + "/scores" = "…/lineitem/scores?type_id=1").
  std::string WithPathSuffix(std::string_view segment) const;
  // Returns the URL with key=value appended to the query string, both percent-encoded.
  std::string WithQueryParam(std::string_view key, std::string_view value) const;
};

// True for "localhost", 127.0.0.0/8 and [::1].
bool IsLoopbackHost(std::string_view host);

}  // namespace gb
