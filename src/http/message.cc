#include "http/message.h"

#include <algorithm>

#include "base/strings.h"

namespace gb::http {

// ---------------------------------------------------------------------------------------------
// Headers

void Headers::Add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(std::string name, std::string value) {
  Remove(name);
  entries_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Headers::Get(std::string_view name) const {
  for (const auto& [n, v] : entries_) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Headers::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : entries_) {
    if (EqualsIgnoreCase(n, name)) out.push_back(v);
  }
  return out;
}

void Headers::Remove(std::string_view name) {
  std::erase_if(entries_, [name](const auto& e) { return EqualsIgnoreCase(e.first, name); });
}

// ---------------------------------------------------------------------------------------------
// Request

namespace {

// The origin-form part of `req`: target on the server side, or path+query of the absolute URL on
// the client side (fragment dropped).
std::string_view OriginForm(const Request& req) {
  if (!req.target.empty() || req.url.empty()) return req.target;
  std::string_view u = req.url;
  size_t scheme = u.find("://");
  if (scheme == std::string_view::npos) return u;
  size_t slash = u.find_first_of("/?#", scheme + 3);
  if (slash == std::string_view::npos) return "/";
  u = u.substr(slash);
  size_t hash = u.find('#');
  if (hash != std::string_view::npos) u = u.substr(0, hash);
  return u;
}

}  // namespace

std::string Request::Path() const {
  std::string_view t = OriginForm(*this);
  size_t q = t.find('?');
  std::string_view p = q == std::string_view::npos ? t : t.substr(0, q);
  if (p.empty() && !url.empty()) return "/";
  return std::string(p);
}

std::string Request::Query() const {
  std::string_view t = OriginForm(*this);
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string() : std::string(t.substr(q + 1));
}

// ---------------------------------------------------------------------------------------------
// Response

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::Html(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "text/html; charset=utf-8");
  r.headers.Add("Cache-Control", "no-store");
  r.body = std::move(body);
  return r;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "application/json; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::Redirect(std::string location, int status) {
  Response r;
  // Only real redirect statuses; anything else (a caller bug) becomes the default 303.
  r.status = (status >= 300 && status <= 308 && status != 304 && status != 305 && status != 306)
                 ? status
                 : 303;
  r.headers.Add("Location", std::move(location));
  r.headers.Add("Cache-Control", "no-store");
  return r;
}

// ---------------------------------------------------------------------------------------------
// Link (RFC 8288), tolerant

namespace {

constexpr std::string_view kLeftCurly = "\xE2\x80\x9C";   // U+201C “
constexpr std::string_view kRightCurly = "\xE2\x80\x9D";  // U+201D ”

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class LinkParser {
 public:
  explicit LinkParser(std::string_view s) : s_(s) {}

  // Calls on_link(url, rel_values) for every link-value; stops when it returns true.
  template <typename F>
  bool ForEach(F&& on_link) {
    while (true) {
      SkipWsAndCommas();
      if (AtEnd()) return false;
      if (s_[pos_] != '<') {
        SkipToNextLink();
        continue;
      }
      size_t close = s_.find('>', pos_ + 1);
      if (close == std::string_view::npos) return false;
      std::string_view url = s_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
      std::vector<std::string_view> rels;
      ParseParams(rels);
      if (on_link(Trim(url), rels)) return true;
    }
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  bool StartsHere(std::string_view what) const { return s_.substr(pos_, what.size()) == what; }

  void SkipWs() {
    while (!AtEnd() && IsWs(s_[pos_])) ++pos_;
  }
  void SkipWsAndCommas() {
    while (!AtEnd() && (IsWs(s_[pos_]) || s_[pos_] == ',')) ++pos_;
  }

  // Reads a quoted string starting at pos_ (ASCII or curly quotes); returns its content.
  // Returns false when pos_ does not start a quoted string.
  bool ReadQuoted(std::string_view& out) {
    if (s_[pos_] == '"') {
      size_t start = ++pos_;
      while (!AtEnd() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        ++pos_;
      }
      out = s_.substr(start, pos_ - start);
      if (!AtEnd()) ++pos_;  // closing quote
      return true;
    }
    // Moodle: rel=“next”. Tolerate either curly quote opening, and either closing it.
    if (StartsHere(kLeftCurly) || StartsHere(kRightCurly)) {
      size_t start = pos_ + kLeftCurly.size();
      size_t end_l = s_.find(kLeftCurly, start);
      size_t end_r = s_.find(kRightCurly, start);
      size_t end = std::min(end_l, end_r);
      if (end == std::string_view::npos) {
        out = s_.substr(start);
        pos_ = s_.size();
      } else {
        out = s_.substr(start, end - start);
        pos_ = end + kLeftCurly.size();
      }
      return true;
    }
    return false;
  }

  // After the URL: *( OWS ";" OWS param ) up to the ',' that ends this link-value.
  void ParseParams(std::vector<std::string_view>& rels) {
    while (true) {
      SkipWs();
      if (AtEnd()) return;
      char c = s_[pos_];
      if (c == ',') {
        ++pos_;
        return;
      }
      if (c != ';') {  // junk: skip a char (quoted strings are consumed whole by ParseParam)
        ++pos_;
        continue;
      }
      ++pos_;
      ParseParam(rels);
    }
  }

  void ParseParam(std::vector<std::string_view>& rels) {
    SkipWs();
    size_t start = pos_;
    while (!AtEnd() && s_[pos_] != '=' && s_[pos_] != ';' && s_[pos_] != ',' && !IsWs(s_[pos_])) ++pos_;
    std::string_view name = s_.substr(start, pos_ - start);
    SkipWs();
    if (AtEnd() || s_[pos_] != '=') return;  // flag parameter, no value
    ++pos_;
    SkipWs();
    if (AtEnd()) return;
    std::string_view value;
    if (!ReadQuoted(value)) {
      size_t vs = pos_;
      while (!AtEnd() && s_[pos_] != ';' && s_[pos_] != ',' && !IsWs(s_[pos_])) ++pos_;
      value = s_.substr(vs, pos_ - vs);
    }
    if (EqualsIgnoreCase(name, "rel")) {
      // A rel value may hold several space-separated relation types ("next last").
      size_t i = 0;
      while (i < value.size()) {
        while (i < value.size() && IsWs(value[i])) ++i;
        size_t j = i;
        while (j < value.size() && !IsWs(value[j])) ++j;
        if (j > i) rels.push_back(value.substr(i, j - i));
        i = j;
      }
    }
  }

  void SkipToNextLink() {
    while (!AtEnd() && s_[pos_] != ',') {
      std::string_view ignored;
      if (!ReadQuoted(ignored)) ++pos_;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> FindLink(const Headers& headers, std::string_view rel) {
  std::optional<std::string> found;
  for (const auto& [name, value] : headers.entries()) {
    if (!EqualsIgnoreCase(name, "Link")) continue;
    LinkParser parser(value);
    bool hit = parser.ForEach([&](std::string_view url, const std::vector<std::string_view>& rels) {
      for (std::string_view r : rels) {
        if (EqualsIgnoreCase(r, rel)) {
          found = std::string(url);
          return true;
        }
      }
      return false;
    });
    if (hit) break;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Cookies

std::optional<std::string> GetCookie(const Headers& headers, std::string_view name) {
  for (const auto& [hname, value] : headers.entries()) {
    if (!EqualsIgnoreCase(hname, "Cookie")) continue;
    for (std::string_view pair : Split(value, ';')) {
      pair = Trim(pair);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (Trim(pair.substr(0, eq)) == name) return std::string(Trim(pair.substr(eq + 1)));
    }
  }
  return std::nullopt;
}

namespace {

// RFC 6265 §4.1.1 cookie-octet; also valid (minus '=') for names in practice.
bool IsCookieOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

// Percent-encodes anything outside cookie-octet (CR/LF, ';', ',', spaces, quotes...), so a value
// can never break out of its attribute; valid values pass through unchanged.
void AppendSafe(std::string& out, std::string_view text, bool is_name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (IsCookieOctet(c) && !(is_name && c == '=')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
}

}  // namespace

std::string BuildSetCookie(std::string_view name, std::string_view value, const CookieOptions& options) {
  std::string out;
  out.reserve(name.size() + value.size() + 64);
  AppendSafe(out, name, /*is_name=*/true);
  out += '=';
  AppendSafe(out, value, /*is_name=*/false);
  if (!options.path.empty()) {
    out += "; Path=";
    // Path may contain '/', which AppendSafe keeps; ';' and controls are encoded.
    AppendSafe(out, options.path, /*is_name=*/false);
  }
  if (options.max_age_seconds >= 0) {
    out += "; Max-Age=";
    out += std::to_string(options.max_age_seconds);
  }
  if (options.secure) out += "; Secure";
  if (options.http_only) out += "; HttpOnly";
  if (!options.same_site.empty()) {
    std::string ss = ToLower(options.same_site);
    std::string_view attr;
    if (ss == "none") {
      // Browsers reject SameSite=None without Secure. Over plain http (dev mode) fall back to Lax,
      // which still works for top-level navigations (but not for cross-site POSTs in an iframe).
      attr = options.secure ? "None" : "Lax";
    } else if (ss == "strict") {
      attr = "Strict";
    } else {
      attr = "Lax";  // "lax" and anything unknown
    }
    out += "; SameSite=";
    out += attr;
  }
  return out;
}

}  // namespace gb::http
