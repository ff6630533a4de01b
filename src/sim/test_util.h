// Test helpers for sim_test (header-only; not part of the library).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "base/url.h"
#include "jose/jose.h"
#include "server/router.h"
#include "sim/in_process_client.h"
#include "sim/platform.h"

namespace gb::sim::testing {

// Two RSA keys generated once per test binary (key generation is slow under sanitizers).
inline const std::pair<std::string, std::string>& TestKeyPems() {
  static const std::pair<std::string, std::string> keys = [] {
    auto a = jose::RsaPrivateKey::Generate(2048);
    auto b = jose::RsaPrivateKey::Generate(2048);
    if (!a.ok() || !b.ok()) return std::pair<std::string, std::string>();
    return std::make_pair(a->ToPem(), b->ToPem());
  }();
  return keys;
}

inline std::unique_ptr<Platform> MakePlatform(std::string base_url = "http://sim.test",
                                              const Clock* clock = nullptr, std::string issuer = "") {
  PlatformOptions o;
  o.base_url = std::move(base_url);
  o.issuer = std::move(issuer);
  o.clock = clock;
  o.signing_key_pem = TestKeyPems().first;
  o.second_key_pem = TestKeyPems().second;
  auto p = Platform::Create(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

// A minimal LTI tool: /lti/login answers the third-party initiated login with a 302 to the
// platform's auth endpoint (state in a cookie, nonce remembered); /lti/launch records what it
// receives and answers 303 (or 400/401 on an OIDC error / state mismatch). Parameters of the
// authentication request can be overridden or removed to play a broken tool.
class FakeTool {
 public:
  explicit FakeTool(std::string origin = "http://tool.test") : origin_(std::move(origin)) {
    router_.Add("GET", "/lti/login", [this](const http::Request& r) { return Login(r); });
    router_.Add("POST", "/lti/login", [this](const http::Request& r) { return Login(r); });
    router_.Add("POST", "/lti/launch", [this](const http::Request& r) { return LaunchPost(r); });
  }

  const std::string& origin() const { return origin_; }
  void set_origin(std::string origin) { origin_ = std::move(origin); }  // before any request
  std::string login_url() const { return origin_ + "/lti/login"; }
  std::string launch_url() const { return origin_ + "/lti/launch"; }
  std::string target_url() const { return origin_ + "/app"; }
  const server::Router& router() const { return router_; }

  ToolSpec Spec(Profile profile) const {
    ToolSpec s;
    s.name = "Fake tool";
    s.login_url = login_url();
    s.redirect_uris = {launch_url()};
    s.target_link_uri = target_url();
    s.jwks_url = origin_ + "/.well-known/jwks.json";
    s.profile = profile;
    return s;
  }

  // Where to send the authentication request and as which client.
  std::string auth_url;
  std::string client_id;
  // Auth request parameter overrides: a value replaces, nullopt removes.
  std::map<std::string, std::optional<std::string>> overrides;
  bool use_form_post_to_auth = false;  // POST form to the auth endpoint instead of a 302
  std::string cookie_attributes = "; Path=/; HttpOnly; SameSite=Lax";

  // What the tool saw.
  FormFields last_login;
  std::string last_login_method;
  std::string nonce;
  std::string state;
  FormFields last_launch;
  std::optional<std::string> last_launch_cookie;
  std::vector<std::string> id_tokens;

 private:
  http::Response Login(const http::Request& r) {
    auto fields = ParseForm(r.method == "POST" ? r.body : r.Query());
    if (!fields) return http::Response::Text(400, "bad login");
    last_login = *fields;
    last_login_method = r.method;
    state = "st-" + std::to_string(++counter_);
    nonce = "nonce-" + std::to_string(counter_);
    FormFields q = {{"scope", "openid"},
                    {"response_type", "id_token"},
                    {"response_mode", "form_post"},
                    {"prompt", "none"},
                    {"client_id", FormValue(*fields, "client_id").value_or(client_id)},
                    {"redirect_uri", launch_url()},
                    {"login_hint", FormValue(*fields, "login_hint").value_or("")},
                    {"state", state},
                    {"nonce", nonce}};
    if (auto h = FormValue(*fields, "lti_message_hint")) q.emplace_back("lti_message_hint", *h);
    for (const auto& [k, v] : overrides) {
      std::erase_if(q, [&](const auto& f) { return f.first == k; });
      if (v) q.emplace_back(k, *v);
    }
    http::Response resp;
    if (use_form_post_to_auth) {
      std::string page = "<html><body><form action='" + HtmlEscape(auth_url) + "' method='POST'>";
      for (const auto& [k, v] : q) {
        page += "<input value='" + HtmlEscape(v) + "' type='hidden' name='" + HtmlEscape(k) + "'/>";
      }
      page += "</form><script>document.forms[0].submit()</script></body></html>";
      resp = http::Response::Html(200, page);
    } else {
      resp = http::Response::Redirect(auth_url + "?" + EncodeForm(q), 302);
    }
    resp.headers.Add("Set-Cookie", "tool_state=" + state + cookie_attributes);
    return resp;
  }

  http::Response LaunchPost(const http::Request& r) {
    auto fields = ParseForm(r.body);
    if (!fields) return http::Response::Text(400, "bad form");
    last_launch = *fields;
    last_launch_cookie = http::GetCookie(r.headers, "tool_state");
    if (auto err = FormValue(*fields, "error")) return http::Response::Text(400, "oidc error: " + *err);
    auto token = FormValue(*fields, "id_token");
    if (!token) return http::Response::Text(400, "no id_token");
    if (!last_launch_cookie || *last_launch_cookie != FormValue(*fields, "state").value_or("")) {
      return http::Response::Text(401, "state mismatch");
    }
    id_tokens.push_back(*token);
    return http::Response::Redirect(target_url() + "?launch=" + std::to_string(id_tokens.size()), 303);
  }

  std::string origin_;
  server::Router router_;
  int counter_ = 0;
};

// Sim + fake tool wired through an InProcessHttpClient. Both on loopback, different ports: the
// usual local set-up (same site for cookies, a secure context).
inline constexpr char kSimOrigin[] = "http://127.0.0.1:7001";
inline constexpr char kToolOrigin[] = "http://127.0.0.1:7002";

struct InProcessWorld {
  explicit InProcessWorld(Profile profile = Profile::kMoodle, const Clock* clock = nullptr)
      : platform(MakePlatform(kSimOrigin, clock)), tool(kToolOrigin) {
    platform->AddRoutes(sim_router);
    client.Mount(kSimOrigin, &sim_router);
    client.Mount(tool.origin(), &tool.router());
    auto t = platform->RegisterTool(tool.Spec(profile));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    registered = *t;
    tool.auth_url = platform->AuthUrl();
    tool.client_id = registered.client_id;
  }

  LaunchSpec Spec(std::string user = "learner1", std::vector<Mutation> mutations = {}) const {
    LaunchSpec s;
    s.client_id = registered.client_id;
    s.user_id = std::move(user);
    s.mutations = std::move(mutations);
    return s;
  }

  std::unique_ptr<Platform> platform;
  server::Router sim_router;
  FakeTool tool;
  InProcessHttpClient client;
  Tool registered;
};

}  // namespace gb::sim::testing
