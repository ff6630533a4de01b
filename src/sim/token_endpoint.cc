#include "sim/token_endpoint.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "base/url.h"
#include "sim/faults.h"
#include "sim/lti_names.h"
#include "sim/platform.h"

namespace gb::sim {

// ---------------------------------------------------------------------------------------------
// Stores

bool AccessToken::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

void AccessTokenStore::Add(std::string token, AccessToken record, int64_t now_ms) {
  std::lock_guard lock(mu_);
  // Keep expired tokens for an hour (a late call is told "expired"), then forget them.
  const int64_t forget_before = now_ms - kAccessTokenLifetimeSeconds * 1000;
  while (!by_expiry_.empty() &&
         (by_expiry_.begin()->first < forget_before || tokens_.size() >= max_tokens_)) {
    tokens_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  by_expiry_.emplace(record.expires_ms, token);
  tokens_[std::move(token)] = std::move(record);
}

std::optional<AccessToken> AccessTokenStore::Find(std::string_view token) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

size_t AccessTokenStore::size() const {
  std::lock_guard lock(mu_);
  return tokens_.size();
}

bool JtiRegistry::Use(std::string_view client_id, std::string_view jti, int64_t expires_s, int64_t now_s) {
  constexpr size_t kMaxRemembered = 1'000'000;
  std::lock_guard lock(mu_);
  while (!by_expiry_.empty() && (by_expiry_.begin()->first <= now_s || seen_.size() >= kMaxRemembered)) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  std::string key = std::string(client_id) + '\n' + std::string(jti);
  if (seen_.count(key) > 0) return false;
  int64_t until = std::max(expires_s, now_s + 600);
  seen_.emplace(key, until);
  by_expiry_.emplace(until, std::move(key));
  return true;
}

uint64_t ToolJwksCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

Result<std::shared_ptr<const jose::Jwks>> ToolJwksCache::Fetch(http::HttpClient& client, const std::string& url) {
  {
    std::lock_guard lock(mu_);
    ++fetches_;
  }
  http::Request req;
  req.method = "GET";
  req.url = url;
  req.headers.Add("Accept", "application/json");
  http::RequestOptions options;
  options.connect_timeout = std::chrono::milliseconds(2'000);
  options.total_timeout = std::chrono::milliseconds(5'000);
  options.max_response_bytes = 1024 * 1024;
  auto resp = client.Send(req, options);
  if (!resp.ok()) {
    return Error(Code::kUnavailable, "sim.jwks_fetch", "could not fetch the tool's JWKS: " + resp.status().message());
  }
  if (resp->status != 200) {
    return Error(Code::kUnavailable, "sim.jwks_fetch",
                 "the tool's JWKS answered HTTP " + std::to_string(resp->status));
  }
  auto jwks = jose::Jwks::Parse(resp->body);
  if (!jwks.ok()) {
    return Error(Code::kUnavailable, "sim.jwks_fetch", "the tool's JWKS is malformed: " + jwks.status().message());
  }
  auto shared = std::make_shared<const jose::Jwks>(std::move(jwks).value());
  std::lock_guard lock(mu_);
  entries_[url] = Entry{shared, clock_.NowSeconds()};
  return shared;
}

Result<jose::RsaPublicKey> ToolJwksCache::Key(http::HttpClient& client, const std::string& url, std::string_view kid) {
  std::shared_ptr<const jose::Jwks> cached;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(url);
    if (it != entries_.end() && clock_.NowSeconds() - it->second.fetched_s < max_age_s_) cached = it->second.jwks;
  }
  if (cached) {
    if (const jose::Jwk* k = cached->Find(kid)) return k->key;
  }
  // Not cached, stale, or an unknown kid (the tool may have rotated its key): fetch once.
  GB_ASSIGN_OR_RETURN(auto fresh, Fetch(client, url));
  if (const jose::Jwk* k = fresh->Find(kid)) return k->key;
  return Error(Code::kUnauthenticated, "sim.unknown_kid", "no key with kid \"" + std::string(kid) + "\" in the tool's JWKS");
}

// ---------------------------------------------------------------------------------------------
// POST /sim/token

namespace {

using nlohmann::json;

enum class Failure { kRequest, kGrant, kAssertion, kClient, kReplay, kScope };

struct TokenFailure {
  Failure kind;
  std::string description;
};

// RFC 6749 §5.2 error response, shaped per profile (docs/simulator.md):
//   canvas: assertion problems are 400 invalid_request (Canvas's JwtValidator messages); an
//           unknown client is 401 invalid_client with WWW-Authenticate: Canvas OAuth 2.0;
//   moodle, brightspace, generic: every error is 400; assertion problems are invalid_client.
http::Response TokenError(Profile profile, const TokenFailure& f) {
  std::string error;
  int status = 400;
  switch (f.kind) {
    case Failure::kRequest: error = "invalid_request"; break;
    case Failure::kGrant: error = "unsupported_grant_type"; break;
    case Failure::kAssertion: error = profile == Profile::kCanvas ? "invalid_request" : "invalid_client"; break;
    case Failure::kClient:
    case Failure::kReplay:
      error = "invalid_client";
      if (profile == Profile::kCanvas) status = 401;
      break;
    case Failure::kScope: error = "invalid_scope"; break;
  }
  http::Response r = http::Response::Json(status, json{{"error", error}, {"error_description", f.description}}.dump());
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  if (status == 401) r.headers.Set("WWW-Authenticate", "Canvas OAuth 2.0");
  return r;
}

const std::vector<std::string_view>& GrantableScopes() {
  static const std::vector<std::string_view> scopes = {lti::kScopeLineItem, lti::kScopeLineItemReadOnly,
                                                       lti::kScopeResultReadOnly, lti::kScopeScore,
                                                       lti::kScopeNrps};
  return scopes;
}

bool IsNumber(const json& claims, const char* key) {
  auto it = claims.find(key);
  return it != claims.end() && it->is_number() && std::isfinite(it->get<double>());
}

std::optional<TokenFailure> AssertionFailure(std::string text) {
  return TokenFailure{Failure::kAssertion, std::move(text)};
}

// The claim checks of each profile (signature already verified).
std::optional<TokenFailure> CheckClaims(Profile profile, const json& c, double now,
                                        const std::vector<std::string>& token_urls) {
  // Moodle's JWT library checks exp/iat/nbf only when present and nothing else (not aud, iss
  // or jti): reproduce that leniency exactly.
  const bool moodle = profile == Profile::kMoodle;
  if (!moodle) {
    std::string missing;
    for (const char* k : {"iss", "sub", "aud", "exp", "iat", "jti"}) {
      if (!c.contains(k) || c[k].is_null()) missing += std::string(missing.empty() ? "" : ", ") + k;
    }
    if (!missing.empty()) return AssertionFailure("the following assertions are missing: " + missing);
  }
  for (const char* k : {"exp", "iat", "nbf"}) {
    if (c.contains(k) && !IsNumber(c, k)) return AssertionFailure(std::string("the '") + k + "' must be a number");
  }
  if (c.contains("exp") && c["exp"].get<double>() <= now) return AssertionFailure("the 'exp' is in the past: the assertion has expired");
  if (c.contains("nbf") && c["nbf"].get<double>() > now + (moodle ? 0 : 60)) {
    return AssertionFailure("the 'nbf' is in the future");
  }
  if (c.contains("iat")) {
    double iat = c["iat"].get<double>();
    switch (profile) {
      case Profile::kCanvas:
        if (now - iat > 300) return AssertionFailure("the 'iat' must be less than 300 seconds old");
        if (iat - now > 30) return AssertionFailure("the 'iat' must not be in the future");
        break;
      case Profile::kMoodle:
        if (iat > now) return AssertionFailure("Cannot handle token prior to its 'iat'");
        break;
      case Profile::kGeneric:
      case Profile::kBrightspace:
        if (iat - now > 60) return AssertionFailure("the 'iat' must not be in the future");
        break;
    }
  }
  if (moodle) return std::nullopt;

  const json& sub = c["sub"];
  const json& iss = c["iss"];
  if (!iss.is_string()) return AssertionFailure("the 'iss' must be a string");
  // Canvas requires iss but does not check its value (lib/canvas/security/jwt_validator.rb).
  if (profile != Profile::kCanvas && iss != sub) {
    return AssertionFailure("the 'iss' must equal the 'sub' (both the client_id)");
  }
  if (!c["jti"].is_string() || c["jti"].get<std::string>().empty()) {
    return AssertionFailure("the 'jti' must be a non-empty string");
  }

  const json& aud = c["aud"];
  if (profile == Profile::kBrightspace) {
    if (aud.is_array()) return AssertionFailure("the 'aud' must be a single string, not an array");
    if (aud != kBrightspaceAudience) {
      return AssertionFailure(std::string("the 'aud' must be ") + kBrightspaceAudience);
    }
    return std::nullopt;
  }
  auto matches = [&](const json& a) {
    return a.is_string() && std::find(token_urls.begin(), token_urls.end(), a.get<std::string>()) != token_urls.end();
  };
  bool ok = matches(aud);
  if (aud.is_array()) ok = std::any_of(aud.begin(), aud.end(), matches);
  if (!ok) return AssertionFailure("the 'aud' is invalid: it must be the token endpoint URL " + token_urls.front());
  return std::nullopt;
}

}  // namespace

http::Response Platform::HandleToken(const http::Request& request) {
  const int64_t now_ms = clock_->NowMillis();
  const double now = static_cast<double>(now_ms) / 1000.0;
  auto form = ParseForm(request.body);

  // Peek at the (unverified) assertion: its sub names the tool whose profile shapes the
  // answer and whose bucket pays for the request.
  std::optional<jose::CompactJws> jws;
  std::optional<Tool> tool;
  std::string assertion = form ? FormValue(*form, "client_assertion").value_or("") : "";
  if (!assertion.empty()) {
    auto parsed = jose::ParseCompact(assertion);
    if (parsed.ok()) {
      jws = std::move(parsed).value();
      auto sub = jws->payload->find("sub");
      if (sub != jws->payload->end() && sub->is_string()) tool = FindTool(sub->get<std::string>());
    }
  }
  const Profile profile = tool ? tool->spec.profile : Profile::kGeneric;

  FaultInjector::Ticket ticket;
  if (auto fault = faults_->Admit(tool ? tool->client_id : "anonymous-token-requests", MeteredKind::kToken, ticket)) {
    return *fault;
  }
  auto fail = [&](Failure kind, std::string description) {
    LogInfo("sim.token_rejected", {{"client_id", tool ? tool->client_id : ""},
                                   {"profile", ProfileName(profile)},
                                   {"description", description}});
    http::Response r = TokenError(profile, {kind, std::move(description)});
    FaultInjector::Decorate(r, ticket);
    return r;
  };

  // 1. The request: a form with each parameter once.
  auto content_type = request.headers.Get("Content-Type").value_or("");
  std::string media = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
  if (media != "application/x-www-form-urlencoded") {
    return fail(Failure::kRequest, "the request must be application/x-www-form-urlencoded");
  }
  if (!form) return fail(Failure::kRequest, "the form body is malformed");
  for (std::string_view k : {"grant_type", "client_assertion_type", "client_assertion", "scope", "scopes"}) {
    auto n = std::count_if(form->begin(), form->end(), [&](const auto& f) { return f.first == k; });
    if (n > 1) return fail(Failure::kRequest, std::string(k) + " is repeated");
  }
  auto grant = FormValue(*form, "grant_type");
  if (!grant || grant->empty()) return fail(Failure::kRequest, "grant_type is required");
  if (*grant != "client_credentials") return fail(Failure::kGrant, "grant_type must be client_credentials");
  auto assertion_type = FormValue(*form, "client_assertion_type");
  if (!assertion_type || assertion_type->empty()) return fail(Failure::kRequest, "client_assertion_type is required");
  if (*assertion_type != kClientAssertionType) {
    return fail(Failure::kRequest, std::string("client_assertion_type must be ") + kClientAssertionType);
  }
  if (assertion.empty()) return fail(Failure::kRequest, "client_assertion is required");
  std::string scope = FormValue(*form, "scope").value_or("");
  if (scope.empty() && profile == Profile::kCanvas) scope = FormValue(*form, "scopes").value_or("");
  if (Trim(scope).empty()) return fail(Failure::kRequest, "scope is required and must not be empty");

  // 2. The assertion: a JWS naming a registered client, RS256 with a kid of the tool's JWKS.
  if (!jws) return fail(Failure::kAssertion, "client_assertion is not a compact JWS");
  const json& header = *jws->header;
  const json& claims = *jws->payload;
  auto alg = header.find("alg");
  if (alg == header.end() || *alg != "RS256") return fail(Failure::kAssertion, "the assertion must be signed with RS256");
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string() || kid->get<std::string>().empty()) {
    return fail(Failure::kAssertion, "the assertion header must carry the kid of a key in the tool's JWKS");
  }
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return fail(Failure::kAssertion, "the following assertions are missing: sub");
  }
  if (!tool) return fail(Failure::kClient, "unknown client: no tool is registered with that client_id");
  if (tool->spec.jwks_url.empty()) {
    return fail(Failure::kClient, "the tool has no jwks_url registered, so its assertion cannot be verified");
  }
  auto key = tool_jwks_->Key(FetchClient(), tool->spec.jwks_url, kid->get<std::string>());
  if (!key.ok()) return fail(Failure::kAssertion, key.status().message());
  Status sig = jose::VerifyRs256(*jws, *key);
  if (!sig.ok()) return fail(Failure::kAssertion, profile == Profile::kCanvas ? "JWS signature invalid." : sig.message());

  // 3. Claims, per profile.
  std::vector<std::string> token_urls = {TokenUrl()};
  if (profile == Profile::kCanvas) {
    // Canvas: the token URL on the host the request was posted to.
    auto host = request.headers.Get("Host");
    auto base = Url::Parse(base_url());
    if (host && base.ok()) token_urls.push_back(base->scheme + "://" + *host + "/sim/token");
  }
  if (auto failure = CheckClaims(profile, claims, now, token_urls)) return fail(failure->kind, failure->description);
  // jti single use, except on Moodle (never checked) and Canvas (skip_jti_check for asymmetric
  // client credentials).
  if (profile == Profile::kGeneric || profile == Profile::kBrightspace) {
    int64_t exp = static_cast<int64_t>(claims["exp"].get<double>());
    if (!jtis_->Use(tool->client_id, claims["jti"].get<std::string>(), exp, now_ms / 1000)) {
      return fail(Failure::kReplay, "the assertion's jti has already been used");
    }
  }

  // 4. Scopes: only AGS and NRPS scopes are grantable.
  std::vector<std::string> granted;
  std::vector<std::string> refused;
  for (std::string_view s : Split(scope, ' ')) {
    if (s.empty()) continue;
    const auto& ok = GrantableScopes();
    if (std::find(ok.begin(), ok.end(), s) != ok.end()) {
      if (std::find(granted.begin(), granted.end(), s) == granted.end()) granted.emplace_back(s);
    } else {
      refused.emplace_back(s);
    }
  }
  if (profile == Profile::kCanvas && !refused.empty()) {
    std::string list;
    for (const auto& s : refused) list += (list.empty() ? "" : ", ") + s;
    return fail(Failure::kScope,
                "A requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource "
                "owner. The following scopes were requested, but not granted: " + list);
  }
  if (granted.empty()) return fail(Failure::kScope, "none of the requested scopes can be granted");

  // 5. An opaque bearer token for an hour.
  std::string token;
  {
    std::lock_guard lock(random_mu_);
    token = random_->Token(32);
  }
  std::string scope_out;
  for (const auto& s : granted) scope_out += (scope_out.empty() ? "" : " ") + s;
  AccessToken record{tool->client_id, granted, now_ms, now_ms + kAccessTokenLifetimeSeconds * 1000};
  tokens_->Add(token, std::move(record), now_ms);
  LogInfo("sim.token_issued", {{"client_id", tool->client_id}, {"scope", scope_out}});
  // Canvas and Moodle write "Bearer"; the others the RFC's lowercase (compare case-insensitively).
  const bool capital = profile == Profile::kCanvas || profile == Profile::kMoodle;
  json body = {{"access_token", token},
               {"token_type", capital ? "Bearer" : "bearer"},
               {"expires_in", kAccessTokenLifetimeSeconds},
               {"scope", scope_out}};
  http::Response r = http::Response::Json(200, body.dump());
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  FaultInjector::Decorate(r, ticket);
  return r;
}

}  // namespace gb::sim
