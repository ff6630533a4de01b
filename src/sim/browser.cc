#include "sim/browser.h"

#include <algorithm>
#include <ctime>
#include <utility>

namespace gb::sim {
namespace {

bool IsIpLiteral(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

// A browser's "potentially trustworthy" origin, for Secure cookies.
bool TrustworthyUrl(const Url& url) {
  return url.scheme == "https" || IsLoopbackHost(url.host) ||
         (url.host.size() > 10 && url.host.ends_with(".localhost"));
}

bool DomainMatches(const Cookie& c, std::string_view host) {
  if (c.host_only) return host == c.domain;
  return host == c.domain || (host.size() > c.domain.size() && host.ends_with(c.domain) &&
                              host[host.size() - c.domain.size() - 1] == '.');
}

bool PathMatches(std::string_view cookie_path, std::string_view path) {
  if (path == cookie_path) return true;
  if (!path.starts_with(cookie_path)) return false;
  return cookie_path.ends_with('/') || path[cookie_path.size()] == '/';
}

std::string DefaultCookiePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return "/";
  size_t last = path.rfind('/');
  if (last == 0) return "/";
  return std::string(path.substr(0, last));
}

std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  bool trailing = false;
  for (std::string_view seg : Split(path, '/')) {
    trailing = false;
    if (seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else if (!seg.empty()) {
      out.push_back(seg);
    }
  }
  std::string result;
  for (auto s : out) {
    result += '/';
    result += s;
  }
  if (result.empty() || trailing || (!path.empty() && path.back() == '/')) result += '/';
  return result;
}

std::string FieldNames(const FormFields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

bool HasField(const FormFields& fields, std::string_view name) {
  return std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
}

std::string WithoutQuery(std::string_view url) {
  size_t cut = url.find_first_of("?#");
  return std::string(url.substr(0, cut));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// URL helpers

std::string ResolveUrl(std::string_view base, std::string_view reference) {
  std::string ref(Trim(reference));
  auto base_url = Url::Parse(base);
  if (ref.empty()) return std::string(base.substr(0, base.find('#')));
  if (!base_url.ok()) return ref;
  size_t colon = ref.find(':');
  size_t first_special = ref.find_first_of("/?#");
  if (colon != std::string::npos && (first_special == std::string::npos || colon < first_special)) {
    return ref;  // absolute (has a scheme)
  }
  const Url& b = *base_url;
  if (ref.starts_with("//")) return b.scheme + ":" + ref;
  if (ref.front() == '#') return b.Origin() + b.Target();
  if (ref.front() == '?') return b.Origin() + b.path + ref;
  std::string path_and_rest = ref;
  std::string suffix;
  size_t q = path_and_rest.find_first_of("?#");
  if (q != std::string::npos) {
    suffix = path_and_rest.substr(q);
    path_and_rest.resize(q);
  }
  std::string merged;
  if (ref.front() == '/') {
    merged = path_and_rest;
  } else {
    std::string dir = b.path.substr(0, b.path.rfind('/') + 1);
    merged = dir + path_and_rest;
  }
  size_t hash = suffix.find('#');
  if (hash != std::string::npos) suffix.resize(hash);
  return b.Origin() + RemoveDotSegments(merged) + suffix;
}

std::string SiteOf(const Url& url) {
  std::string host = url.host;
  if (!IsIpLiteral(host)) {
    size_t last = host.rfind('.');
    if (last != std::string::npos && last > 0) {
      size_t second = host.rfind('.', last - 1);
      if (second != std::string::npos) host = host.substr(second + 1);
    }
  }
  return url.scheme + "://" + host;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  text = Trim(text);
  size_t comma = text.find(',');
  if (comma != std::string_view::npos) text = Trim(text.substr(comma + 1));
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  std::vector<std::string_view> parts;
  for (auto p : Split(text, ' ')) {
    if (!p.empty()) parts.push_back(p);
  }
  if (parts.size() < 4) return std::nullopt;
  std::string_view month_s = parts[1], year_s = parts[2], time_s = parts[3];
  if (parts[0].find('-') != std::string_view::npos) return std::nullopt;  // RFC 850 form: unsupported
  auto num = [](std::string_view s, int& out) {
    if (s.empty() || s.size() > 4) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  std::tm tm{};
  int day = 0, year = 0, h = 0, m = 0, s = 0;
  if (!num(parts[0], day) || !num(year_s, year)) return std::nullopt;
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (EqualsIgnoreCase(month_s, kMonths[i])) month = i;
  }
  auto hms = Split(time_s, ':');
  if (month < 0 || hms.size() != 3 || !num(hms[0], h) || !num(hms[1], m) || !num(hms[2], s)) {
    return std::nullopt;
  }
  tm.tm_mday = day;
  tm.tm_mon = month;
  tm.tm_year = year - 1900;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

// ---------------------------------------------------------------------------------------------
// Cookie jar

bool CookieJar::Set(const Url& url, std::string_view set_cookie, int64_t now, std::string* note) {
  auto refuse = [&](std::string why) {
    if (note) *note = std::move(why);
    return false;
  };
  auto parts = Split(set_cookie, ';');
  if (parts.empty()) return refuse("empty Set-Cookie");
  std::string_view pair = Trim(parts[0]);
  size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return refuse("Set-Cookie without name=value");
  Cookie c;
  c.name = std::string(Trim(pair.substr(0, eq)));
  c.value = std::string(Trim(pair.substr(eq + 1)));
  if (c.name.empty()) return refuse("Set-Cookie with an empty name");
  c.domain = url.host;
  c.path = DefaultCookiePath(url.path);
  std::optional<int64_t> max_age;
  std::optional<int64_t> expires;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view attr = Trim(parts[i]);
    size_t aeq = attr.find('=');
    std::string key = ToLower(Trim(attr.substr(0, aeq)));
    std::string_view val = aeq == std::string_view::npos ? std::string_view() : Trim(attr.substr(aeq + 1));
    if (key == "path") {
      if (!val.empty() && val.front() == '/') c.path = std::string(val);
    } else if (key == "domain") {
      std::string d = ToLower(val);
      while (!d.empty() && d.front() == '.') d.erase(0, 1);
      if (!d.empty()) {
        Cookie probe;
        probe.host_only = false;
        probe.domain = d;
        if (!DomainMatches(probe, url.host) || IsIpLiteral(url.host) != IsIpLiteral(d)) {
          return refuse("cookie " + c.name + ": Domain=" + d + " does not match " + url.host);
        }
        if (!(IsIpLiteral(url.host) && d == url.host)) {
          c.domain = d;
          c.host_only = false;
        }
      }
    } else if (key == "max-age") {
      int64_t n = 0;
      bool neg = !val.empty() && val.front() == '-';
      std::string_view digits = neg ? val.substr(1) : val;
      bool ok = !digits.empty() && digits.size() < 12;
      for (char ch : digits) {
        if (ch < '0' || ch > '9') ok = false;
        else n = n * 10 + (ch - '0');
      }
      if (ok) max_age = neg ? -n : n;
    } else if (key == "expires") {
      expires = ParseHttpDate(val);
    } else if (key == "secure") {
      c.secure = true;
    } else if (key == "httponly") {
      c.http_only = true;
    } else if (key == "samesite") {
      std::string v = ToLower(val);
      if (v == "strict" || v == "lax" || v == "none") c.same_site = v;
    }
  }
  if (max_age) {
    c.expires = *max_age <= 0 ? now - 1 : now + *max_age;
  } else if (expires) {
    c.expires = *expires;
  }
  if (c.secure && !TrustworthyUrl(url)) {
    return refuse("cookie " + c.name + ": Secure cookie set over insecure http");
  }
  if (c.same_site == "none" && !c.secure) {
    return refuse("cookie " + c.name + ": SameSite=None without Secure is rejected by browsers");
  }
  std::erase_if(cookies_, [&](const Cookie& o) {
    return o.name == c.name && o.domain == c.domain && o.host_only == c.host_only && o.path == c.path;
  });
  if (c.expires && *c.expires <= now) return true;  // a deletion
  cookies_.push_back(std::move(c));
  return true;
}

std::string CookieJar::HeaderFor(const Url& url, const CookieContext& context, int64_t now,
                                 bool enforce_same_site, std::vector<std::string>* withheld) const {
  std::vector<const Cookie*> chosen;
  for (const auto& c : cookies_) {
    if (c.expires && *c.expires <= now) continue;
    if (!DomainMatches(c, url.host) || !PathMatches(c.path, url.path)) continue;
    if (enforce_same_site) {
      std::string why;
      if (c.secure && !TrustworthyUrl(url)) {
        why = "Secure over http";
      } else if (context.cross_site) {
        std::string ss = c.same_site.empty() ? "lax" : c.same_site;
        if (ss == "strict") why = "SameSite=Strict on a cross-site request";
        if (ss == "lax" && !context.safe_method) {
          why = std::string(c.same_site.empty() ? "SameSite absent (Lax)" : "SameSite=Lax") +
                " on a cross-site POST";
        }
      }
      if (!why.empty()) {
        if (withheld) withheld->push_back(c.name + " (" + why + ")");
        continue;
      }
    }
    chosen.push_back(&c);
  }
  // Longer paths first, as browsers order them.
  std::stable_sort(chosen.begin(), chosen.end(),
                   [](const Cookie* a, const Cookie* b) { return a->path.size() > b->path.size(); });
  std::string out;
  for (const Cookie* c : chosen) {
    if (!out.empty()) out += "; ";
    out += c->name + "=" + c->value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Browser

struct LaunchBrowser::Navigation {
  std::string method = "GET";
  std::string url;
  std::string body;  // form-encoded, for POST
  std::optional<std::string> initiator;  // URL of the page that started this navigation
  bool chain_cross_site = false;         // a previous hop of this redirect chain was cross-site
};

LaunchBrowser::LaunchBrowser(http::HttpClient& client, LaunchBrowserOptions options)
    : client_(client), options_(std::move(options)) {}

int64_t LaunchBrowser::Now() const {
  return (options_.clock ? options_.clock : &SystemClock::Instance())->NowSeconds();
}

Result<http::Response> LaunchBrowser::Fetch(const Navigation& nav, LaunchOutcome& out,
                                            std::string* cookie_header_used) {
  GB_ASSIGN_OR_RETURN(Url url, Url::Parse(nav.url));
  http::Request req;
  req.method = nav.method;
  req.url = nav.url;
  req.target = url.Target();
  req.headers.Add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) gradebridge-LaunchBrowser/0.1");
  req.headers.Add("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
  CookieContext ctx;
  ctx.safe_method = nav.method == "GET" || nav.method == "HEAD";
  if (nav.initiator) {
    auto init = Url::Parse(*nav.initiator);
    ctx.cross_site = nav.chain_cross_site || !init.ok() || SiteOf(*init) != SiteOf(url);
    if (nav.method == "POST" && init.ok()) {
      req.headers.Add("Origin", nav.chain_cross_site ? std::string("null") : init->Origin());
    }
  }
  std::vector<std::string> withheld;
  std::string cookie_header;
  if (cookie_header_used && options_.drop_cookies) {
    out.steps.push_back("tamper: cookies dropped");
  } else {
    cookie_header = jar_.HeaderFor(url, ctx, Now(), options_.enforce_same_site, &withheld);
  }
  if (!cookie_header.empty()) req.headers.Add("Cookie", cookie_header);
  if (cookie_header_used) *cookie_header_used = cookie_header;
  if (nav.method == "POST") {
    req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
    req.body = nav.body;
  }
  for (const auto& w : withheld) out.steps.push_back("cookie withheld: " + w);

  GB_ASSIGN_OR_RETURN(http::Response resp, client_.Send(req, options_.request_options));

  std::string line = nav.method + " " + WithoutQuery(nav.url);
  if (!cookie_header.empty()) {
    std::string names;
    for (auto part : Split(cookie_header, ';')) {
      auto kv = Trim(part);
      if (!names.empty()) names += ",";
      names += std::string(kv.substr(0, kv.find('=')));
    }
    line += " [cookies: " + names + "]";
  }
  line += " -> " + std::to_string(resp.status);
  if (auto loc = resp.headers.Get("Location")) line += " Location: " + WithoutQuery(*loc);
  out.steps.push_back(line);
  for (const auto& sc : resp.headers.GetAll("Set-Cookie")) {
    std::string note;
    if (jar_.Set(url, sc, Now(), &note)) {
      out.steps.push_back("set-cookie: " + sc.substr(0, sc.find('=')) + " from " + url.host);
    } else {
      out.steps.push_back("set-cookie refused: " + note);
    }
  }
  return resp;
}

Result<LaunchOutcome> LaunchBrowser::Launch(std::string_view launch_url) {
  LaunchOutcome out;
  GB_ASSIGN_OR_RETURN(Url start, Url::Parse(launch_url));
  const std::string platform_origin = start.Origin();
  Navigation nav;
  nav.url = std::string(launch_url);
  bool first = true;

  for (int step = 0; step < options_.max_steps; ++step) {
    GB_ASSIGN_OR_RETURN(http::Response resp, Fetch(nav, out, nullptr));
    GB_ASSIGN_OR_RETURN(Url here, Url::Parse(nav.url));
    std::string stage = here.Origin() == platform_origin ? (first ? "platform_launch" : "platform_auth")
                                                         : "tool_login";
    first = false;
    auto location = resp.headers.Get("Location");
    if (resp.status >= 300 && resp.status < 400 && location) {
      Navigation next;
      next.url = ResolveUrl(nav.url, *location);
      if (resp.status == 307 || resp.status == 308) {
        next.method = nav.method;
        next.body = nav.body;
      }
      next.initiator = nav.initiator;
      if (nav.initiator) {
        auto init = Url::Parse(*nav.initiator);
        next.chain_cross_site = nav.chain_cross_site || !init.ok() || SiteOf(*init) != SiteOf(here);
      }
      nav = std::move(next);
      continue;
    }
    std::optional<HtmlForm> form;
    if (resp.status == 200) form = ParseHtmlForm(resp.body);
    if (!form) {
      out.status = resp.status;
      out.location = location.value_or("");
      out.body = std::move(resp.body);
      out.stage = stage;
      out.steps.push_back("stopped at " + stage + " (no redirect and no form)");
      return out;
    }
    std::string action = ResolveUrl(nav.url, form->action.empty() ? nav.url : form->action);
    bool final_form = HasField(form->fields, "id_token") || HasField(form->fields, "error");
    out.steps.push_back("form " + form->method + " " + WithoutQuery(action) + " [" + FieldNames(form->fields) + "]");
    Navigation next;
    next.initiator = nav.url;
    if (form->method == "post") {
      next.method = "POST";
      next.url = action;
    } else {
      next.method = "GET";
      next.url = WithoutQuery(action) + "?" + EncodeForm(form->fields);
    }
    if (!final_form) {
      next.body = EncodeForm(form->fields);
      nav = std::move(next);
      continue;
    }

    // The platform's authentication response: post it to the tool, with the tamper hooks.
    FormFields fields = form->fields;
    out.id_token = FormValue(fields, "id_token").value_or("");
    out.oidc_error = FormValue(fields, "error").value_or("");
    for (auto& [k, v] : fields) {
      if (k == "state" && options_.replace_state) {
        v = *options_.replace_state;
        out.steps.push_back("tamper: state replaced");
      } else if (k == "id_token" && options_.replace_id_token) {
        v = *options_.replace_id_token;
        out.steps.push_back("tamper: id_token replaced");
      }
    }
    if (form->method == "post") next.body = EncodeForm(fields);
    else next.url = WithoutQuery(action) + "?" + EncodeForm(fields);
    out.posted = fields;
    out.launch_url = action;
    std::string cookie_header;
    GB_ASSIGN_OR_RETURN(http::Response final_resp, Fetch(next, out, &cookie_header));
    out.status = final_resp.status;
    out.location = final_resp.headers.Get("Location").value_or("");
    out.body = std::move(final_resp.body);
    out.stage = "tool_launch";
    if (options_.replay) {
      // The identical request again (an attacker's replay of a captured POST, cookies included).
      GB_ASSIGN_OR_RETURN(Url target, Url::Parse(next.url));
      http::Request req;
      req.method = next.method;
      req.url = next.url;
      req.target = target.Target();
      req.headers.Add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) gradebridge-LaunchBrowser/0.1");
      req.headers.Add("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
      if (!cookie_header.empty()) req.headers.Add("Cookie", cookie_header);
      if (next.method == "POST") {
        req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
        req.body = next.body;
      }
      GB_ASSIGN_OR_RETURN(http::Response replay, client_.Send(req, options_.request_options));
      out.replayed = true;
      out.replay_status = replay.status;
      out.replay_location = replay.headers.Get("Location").value_or("");
      out.replay_body = std::move(replay.body);
      out.steps.push_back("replay " + next.method + " " + WithoutQuery(next.url) + " -> " +
                          std::to_string(replay.status));
    }
    return out;
  }
  return Error(Code::kDeadlineExceeded, "browser.too_many_steps",
               "The launch did not finish within " + std::to_string(options_.max_steps) + " requests");
}

}  // namespace gb::sim
