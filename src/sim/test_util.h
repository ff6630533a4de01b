// Test helpers for sim_test (header-only; not part of the library).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/strings.h"
#include "base/url.h"
#include "jose/jose.h"
#include "server/router.h"
#include "sim/in_process_client.h"
#include "sim/lti_names.h"
#include "sim/platform.h"
#include "sim/token_endpoint.h"

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

// The fake tool's own signing keys (its client assertions), generated once per test binary.
inline const std::vector<std::string>& ToolKeyPems() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 2; ++i) {
      auto k = jose::RsaPrivateKey::Generate(2048);
      if (k.ok()) out.push_back(k->ToPem());
    }
    return out;
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
    router_.Add("GET", "/.well-known/jwks.json", [this](const http::Request&) { return Jwks(); });
    if (ToolKeyPems().size() == 2) {
      for (const auto& pem : ToolKeyPems()) {
        auto k = jose::RsaPrivateKey::FromPem(pem);
        if (k.ok()) keys_.push_back(*k);
      }
    }
  }

  // The key the tool signs assertions with, and its kid ("tool-key-<n>"); rotating switches to
  // the other key (published from then on, the old one withdrawn).
  const jose::RsaPrivateKey& key() const { return keys_.at(active_key_); }
  std::string kid() const { return "tool-key-" + std::to_string(active_key_); }
  void RotateKey() { active_key_ = 1 - active_key_; }
  std::atomic<int> jwks_fetches{0};
  int jwks_status = 200;

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

  http::Response Jwks() {
    ++jwks_fetches;
    if (jwks_status != 200) return http::Response::Text(jwks_status, "unavailable");
    nlohmann::json keys = nlohmann::json::array({key().PublicKey().ToJwk(kid())});
    return http::Response::Json(200, nlohmann::json{{"keys", keys}}.dump());
  }

  std::string origin_;
  server::Router router_;
  int counter_ = 0;
  std::vector<jose::RsaPrivateKey> keys_;
  int active_key_ = 0;
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

// Client assertions and service calls on top of an InProcessWorld: the platform fetches the
// fake tool's JWKS through the in-process client. Time comes from `clock` (a FakeClock).
inline const std::vector<std::string>& AllServiceScopes() {
  static const std::vector<std::string> scopes = {lti::kScopeLineItem, lti::kScopeLineItemReadOnly,
                                                  lti::kScopeResultReadOnly, lti::kScopeScore};
  return scopes;
}

struct ServiceWorld {
  explicit ServiceWorld(Profile profile = Profile::kGeneric) : world(profile, &clock) {
    world.platform->SetHttpClient(&world.client);
  }

  Platform& platform() { return *world.platform; }
  const Tool& tool() const { return world.registered; }
  std::string client_id() const { return world.registered.client_id; }

  // The audience this profile wants.
  std::string Audience() const {
    return world.registered.spec.profile == Profile::kBrightspace ? std::string(kBrightspaceAudience)
                                                                  : world.platform->TokenUrl();
  }
  // Correct assertion claims for `client`; `patch` members replace them (null removes).
  nlohmann::json Claims(const nlohmann::json& patch = nlohmann::json::object(), std::string client = "") {
    if (client.empty()) client = client_id();
    int64_t now = clock.NowSeconds();
    nlohmann::json c = {{"iss", client},
                        {"sub", client},
                        {"aud", Audience()},
                        {"iat", now},
                        {"exp", now + 300},
                        {"jti", "jti-" + std::to_string(++jti_counter)},
                        {lti::kClaimDeploymentId, world.registered.deployment_id}};
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null()) {
        c.erase(k);
      } else {
        c[k] = v;
      }
    }
    return c;
  }
  std::string Sign(const nlohmann::json& claims, std::string kid = "") {
    auto jwt = jose::SignJwt(claims, world.tool.key(), kid.empty() ? world.tool.kid() : kid);
    EXPECT_TRUE(jwt.ok()) << jwt.status().ToString();
    return jwt.ok() ? *jwt : "";
  }
  std::string Assertion(const nlohmann::json& patch = nlohmann::json::object()) { return Sign(Claims(patch)); }

  http::Response Post(const std::string& path_or_url, const std::string& body, const std::string& content_type,
                      http::Headers extra = {}) {
    http::Request r;
    r.method = "POST";
    r.url = path_or_url.rfind("http", 0) == 0 ? path_or_url : std::string(kSimOrigin) + path_or_url;
    r.body = body;
    if (!content_type.empty()) r.headers.Add("Content-Type", content_type);
    for (const auto& [k, v] : extra.entries()) r.headers.Add(k, v);
    auto resp = world.client.Send(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
  http::Response TokenRequest(const std::string& assertion, const std::string& scope,
                              FormFields extra = {}) {
    FormFields f = {{"grant_type", "client_credentials"},
                    {"client_assertion_type", kClientAssertionType},
                    {"client_assertion", assertion},
                    {"scope", scope}};
    f.insert(f.end(), extra.begin(), extra.end());
    return Post("/sim/token", EncodeForm(f), "application/x-www-form-urlencoded");
  }
  // A fresh access token for `scopes` (all four AGS scopes by default).
  std::string Token(std::vector<std::string> scopes = AllServiceScopes()) {
    std::string scope;
    for (const auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
    auto resp = TokenRequest(Assertion(), scope);
    EXPECT_EQ(resp.status, 200) << resp.body;
    auto j = nlohmann::json::parse(resp.body, nullptr, false);
    return j.is_object() ? j.value("access_token", "") : "";
  }
  const std::string& token() {
    if (token_.empty()) token_ = Token();
    return token_;
  }

  // A service call with a bearer token ("" = none).
  http::Response Call(const std::string& method, const std::string& url, const std::string& token,
                      const std::string& body = "", const std::string& content_type = "",
                      const std::string& accept = "") {
    http::Request r;
    r.method = method;
    r.url = url;
    r.body = body;
    if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
    if (!content_type.empty()) r.headers.Add("Content-Type", content_type);
    if (!accept.empty()) r.headers.Add("Accept", accept);
    auto resp = world.client.Send(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
  Result<http::Response> RawCall(const std::string& method, const std::string& url, const std::string& token) {
    http::Request r;
    r.method = method;
    r.url = url;
    if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
    return world.client.Send(r);
  }

  std::string LineItemsUrl() const { return world.platform->LineItemsUrl(world.registered); }
  std::string LineItemUrl(const std::string& id) const { return world.platform->LineItemUrl(world.registered, id); }
  // "<line item>/scores" with the query kept at the end (Moodle's ?type_id=).
  static std::string Sub(const std::string& item_url, std::string_view suffix) {
    auto u = Url::Parse(item_url);
    EXPECT_TRUE(u.ok());
    return u.ok() ? u->WithPathSuffix(suffix) : "";
  }

  FakeClock clock;
  InProcessWorld world;
  int jti_counter = 0;

 private:
  std::string token_;
};

}  // namespace gb::sim::testing
