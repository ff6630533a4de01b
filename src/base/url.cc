#include "base/url.h"

#include "base/strings.h"

namespace gb {
namespace {

Status BadUrl(std::string_view why) {
  return Error(Code::kInvalidArgument, "url.invalid", std::string("Invalid URL: ") + std::string(why));
}

}  // namespace

Result<Url> Url::Parse(std::string_view text) {
  if (text.size() > 4096) return BadUrl("longer than 4096 characters");
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f) return BadUrl("contains a space, control or non-ASCII character");
  }
  Url url;
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) return BadUrl("missing scheme");
  url.scheme = ToLower(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https") return BadUrl("scheme must be http or https");
  std::string_view rest = text.substr(colon + 3);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  rest = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (authority.empty()) return BadUrl("missing host");
  if (authority.find('@') != std::string_view::npos) return BadUrl("user information is not allowed");
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl("garbage after IPv6 literal");
      port = after.substr(1);
      url.explicit_port = true;
    }
  } else {
    size_t pc = authority.rfind(':');
    if (pc != std::string_view::npos) {
      host = authority.substr(0, pc);
      port = authority.substr(pc + 1);
      url.explicit_port = true;
    }
  }
  if (host.empty()) return BadUrl("missing host");
  url.host = ToLower(host);
  if (url.explicit_port) {
    if (port.empty() || port.size() > 5) return BadUrl("bad port");
    uint32_t p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return BadUrl("bad port");
      p = p * 10 + static_cast<uint32_t>(c - '0');
    }
    if (p == 0 || p > 65535) return BadUrl("port out of range");
    url.port = static_cast<uint16_t>(p);
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    url.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    url.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  url.path = rest.empty() ? "/" : std::string(rest);
  return url;
}

std::string Url::Origin() const {
  std::string out = scheme + "://" + host;
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::string Url::Authority() const { return host + ":" + std::to_string(port); }

std::string Url::Target() const { return query.empty() ? path : path + "?" + query; }

std::string Url::ToString() const {
  std::string out = Origin() + Target();
  if (!fragment.empty()) out += "#" + fragment;
  return out;
}

std::string Url::WithPathSuffix(std::string_view segment) const {
  std::string p = path;
  if (!p.empty() && p.back() == '/' && !segment.empty() && segment.front() == '/') p.pop_back();
  std::string out = Origin() + p + std::string(segment);
  if (!query.empty()) out += "?" + query;
  return out;
}

std::string Url::WithQueryParam(std::string_view key, std::string_view value) const {
  std::string out = Origin() + path + "?";
  if (!query.empty()) out += query + "&";
  out += PercentEncode(key) + "=" + PercentEncode(value);
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  return StartsWith(host, "127.") &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace gb
