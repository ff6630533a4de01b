// LaunchBrowser: drives an LTI launch the way a browser would, over any http::HttpClient (libcurl
// against real servers, or InProcessHttpClient against routers):
//
//   GET <sim>/sim/launch?...            -> auto-submitting login form
//   submit it to the tool's login URL   -> 302/303 to the platform auth endpoint, or a form
//   follow redirects / submit forms     -> the platform's auth response form (id_token + state,
//                                          or an OIDC error)
//   POST it to the tool's redirect_uri  -> the outcome (the tool's final 3xx is NOT followed)
//
// A per-host cookie jar is kept across the whole flow (and across Launch() calls, like a browser
// session). It models what matters for LTI in a real browser (Chrome): Path, Max-Age/Expires,
// Secure (only over https or to loopback hosts), and SameSite — a cookie without SameSite is Lax;
// Lax and Strict cookies are not sent on a cross-site POST (the platform's auth page posting to
// the tool), SameSite=None needs Secure. "Site" is scheme + registrable domain (ports ignored),
// so a sim on 127.0.0.1:A and a tool on 127.0.0.1:B are same-site, as in a browser.
//
// Tamper hooks (options) alter only the final POST to the tool's launch URL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/url.h"
#include "http/client.h"
#include "sim/html.h"  // HtmlForm, ParseHtmlForm, HtmlUnescape

namespace gb::sim {

struct Cookie {
  std::string name;
  std::string value;
  std::string domain;  // host for host-only cookies; else the Domain attribute (no leading dot)
  bool host_only = true;
  std::string path = "/";
  bool secure = false;
  bool http_only = false;
  std::string same_site;  // "strict", "lax", "none" or "" (absent: treated as lax)
  std::optional<int64_t> expires;  // Unix seconds; nullopt: session cookie
};

// Where a request comes from, for SameSite decisions.
struct CookieContext {
  bool cross_site = false;
  bool safe_method = true;  // GET/HEAD
};

class CookieJar {
 public:
  // Applies one Set-Cookie header value received from `url`. Returns false (and says why in
  // `note`) when a browser would refuse it.
  bool Set(const Url& url, std::string_view set_cookie, int64_t now, std::string* note = nullptr);
  // The Cookie header value for a request to `url` ("" when none). When `enforce_same_site`,
  // cookies a browser would withhold are left out and named in `withheld`.
  std::string HeaderFor(const Url& url, const CookieContext& context, int64_t now, bool enforce_same_site,
                        std::vector<std::string>* withheld = nullptr) const;
  void Clear() { cookies_.clear(); }
  const std::vector<Cookie>& cookies() const { return cookies_; }

 private:
  std::vector<Cookie> cookies_;
};

struct LaunchBrowserOptions {
  std::optional<std::string> replace_state;     // post this state instead of the platform's
  bool drop_cookies = false;                    // post to the launch URL without any cookie
  std::optional<std::string> replace_id_token;  // post this text instead of the id_token
  bool replay = false;                          // post the same request a second time
  bool enforce_same_site = true;                // model SameSite/Secure (see above)
  int max_steps = 20;                           // requests before giving up (redirect loops)
  const Clock* clock = nullptr;                 // cookie expiry; null: system clock
  http::RequestOptions request_options;
};

struct LaunchOutcome {
  // The last response received: normally the tool's answer to the id_token POST.
  int status = 0;
  std::string location;  // its Location header, if any (not followed)
  std::string body;
  // Where the flow ended: "platform_launch" (the /sim/launch page failed), "tool_login",
  // "platform_auth" (e.g. the 400 page for a bad redirect_uri) or "tool_launch" (the POST of the
  // auth response to the tool's redirect_uri was made).
  std::string stage;
  std::string id_token;  // as issued by the platform (before replace_id_token); empty if none
  std::string oidc_error;  // "error" of an OIDC error response the platform posted back, if any
  FormFields posted;       // the fields actually posted to the tool's launch URL
  std::string launch_url;  // where they were posted
  std::vector<std::string> steps;  // human-readable trace (no token values)

  // With options.replay: the tool's answer to the identical second POST.
  bool replayed = false;
  int replay_status = 0;
  std::string replay_location;
  std::string replay_body;

  bool reached_tool_launch() const { return stage == "tool_launch"; }
};

class LaunchBrowser {
 public:
  // `client` must outlive the browser. It must not follow redirects itself.
  explicit LaunchBrowser(http::HttpClient& client, LaunchBrowserOptions options = {});

  // Runs one launch from a platform launch URL (e.g. Platform::LaunchUrl()). Transport failures
  // and runaway flows are errors; any HTTP answer is an outcome.
  Result<LaunchOutcome> Launch(std::string_view launch_url);

  LaunchBrowserOptions& options() { return options_; }
  CookieJar& cookies() { return jar_; }

 private:
  struct Navigation;
  Result<http::Response> Fetch(const Navigation& nav, LaunchOutcome& out, std::string* cookie_header_used);
  int64_t Now() const;

  http::HttpClient& client_;
  LaunchBrowserOptions options_;
  CookieJar jar_;
};

// Resolves a (possibly relative) reference against an absolute URL, like a browser resolves a
// Location header or a form action.
std::string ResolveUrl(std::string_view base, std::string_view reference);

// Scheme + registrable domain (approximated as the last two labels; IP literals and single-label
// hosts as they are): "http://127.0.0.1", "https://example.edu".
std::string SiteOf(const Url& url);

// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to Unix seconds.
std::optional<int64_t> ParseHttpDate(std::string_view text);

}  // namespace gb::sim
