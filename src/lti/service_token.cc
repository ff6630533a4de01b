#include "lti/service_token.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "base/url.h"
#include "jose/jose.h"
#include "lti/claims.h"

namespace gb::lti {
namespace {

constexpr char kAssertionType[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::string Labels(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ", ";
    out += ScopeLabel(s);
  }
  return out;
}

nlohmann::json ParseJsonQuietly(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

// Removes every occurrence of `secret` (the assertion) from text a platform might echo back.
std::string Redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

bool IsPermanentTokenFailure(const Status& s) {
  return s.code() == Code::kPermissionDenied || s.code() == Code::kFailedPrecondition;
}

struct OAuthErrorInfo {
  Code code;
  const char* reason;
  const char* advice;
};

OAuthErrorInfo MapOAuthError(std::string_view error) {
  if (error == "invalid_client") {
    return {Code::kPermissionDenied, "token.invalid_client",
            "The platform rejected gradebridge's client credentials (invalid_client): check the client_id "
            "and that the platform has the tool's current public key or JWKS URL."};
  }
  if (error == "invalid_grant") {
    return {Code::kPermissionDenied, "token.invalid_grant",
            "The platform rejected the client assertion (invalid_grant): check the assertion audience "
            "(token_audience), the server clock, and the tool's public key on the platform."};
  }
  if (error == "unauthorized_client") {
    return {Code::kPermissionDenied, "token.unauthorized_client",
            "The platform does not allow this client to use the client-credentials grant "
            "(unauthorized_client): check that the tool / developer key is enabled for LTI services."};
  }
  if (error == "invalid_scope") {
    return {Code::kPermissionDenied, "token.invalid_scope",
            "The platform does not allow the requested service scopes for this client (invalid_scope): "
            "enable them on the platform's tool / developer key."};
  }
  if (error == "unsupported_grant_type") {
    return {Code::kFailedPrecondition, "token.unsupported_grant_type",
            "The token endpoint does not support the client-credentials grant (unsupported_grant_type): "
            "check the registration's token URL."};
  }
  if (error == "invalid_request") {
    return {Code::kFailedPrecondition, "token.invalid_request",
            "The platform refused the token request (invalid_request). Usually the client assertion was "
            "refused: a wrong audience (token_audience — Brightspace needs "
            "https://api.brightspace.com/auth/token, Canvas the token URL on the host posted to), a server "
            "clock out of sync, or a key the platform does not know."};
  }
  return {Code::kFailedPrecondition, "token.rejected",
          "The token endpoint refused the request: check the registration's token URL and client_id."};
}

}  // namespace

std::string ScopeLabel(std::string_view scope) {
  size_t pos = scope.rfind("/scope/");
  if (pos == std::string_view::npos) return std::string(scope);
  return std::string(scope.substr(pos + 7));
}

bool AccessToken::HasScopes(const std::vector<std::string>& needed) const {
  for (const auto& s : needed) {
    if (!std::binary_search(scopes.begin(), scopes.end(), s)) return false;
  }
  return true;
}

ServiceTokenClient::ServiceTokenClient(http::HttpClient& http, const KeyRing& keys, Clock& clock, Random& random,
                                       ServiceTokenOptions options)
    : http_(http), keys_(keys), clock_(clock), random_(random), options_(options) {}

int64_t ServiceTokenClient::request_count() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::string ServiceTokenClient::RegistrationKey(const Registration& r) {
  // Everything the assertion or the endpoint depends on: an edited registration gets new tokens.
  std::string key = r.id.str();
  for (const std::string* part : {&r.client_id, &r.token_url}) {
    key += '\x1f';
    key += *part;
  }
  key += '\x1f';
  key += r.EffectiveTokenAudience();
  key += '\x1f';
  if (!r.deployment_ids.empty()) key += r.deployment_ids.front();
  return key;
}

Result<AccessToken> ServiceTokenClient::CheckGranted(const AccessToken& token,
                                                     const std::vector<std::string>& scopes) const {
  std::vector<std::string> missing;
  for (const auto& s : scopes) {
    if (!std::binary_search(token.scopes.begin(), token.scopes.end(), s)) missing.push_back(s);
  }
  if (missing.empty()) return token;
  return Error(Code::kPermissionDenied, "service.not_granted",
               "service not granted: " + Labels(missing) + ". The platform granted " +
                   (token.scopes.empty() ? std::string("none of the requested scopes") : Labels(token.scopes)) +
                   " to this client; enable the missing service (" + JoinScopes(missing) +
                   ") on the platform's tool / developer key.");
}

Result<AccessToken> ServiceTokenClient::Get(const Registration& registration, std::vector<std::string> scopes,
                                            ServiceResponse* failure_response) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  if (scopes.empty()) {
    return Error(Code::kInvalidArgument, "token.invalid_scopes", "A service token needs at least one scope.");
  }
  for (const auto& s : scopes) {
    bool bad = s.empty() || std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7f; });
    if (bad) return Error(Code::kInvalidArgument, "token.invalid_scopes", "A requested scope is malformed.");
  }
  if (registration.client_id.empty()) {
    return Error(Code::kFailedPrecondition, "token.invalid_registration",
                 "The registration has no client_id, so no service token can be requested.");
  }
  auto token_url = Url::Parse(registration.token_url);
  if (!token_url.ok()) {
    return Error(Code::kFailedPrecondition, "token.invalid_url",
                 "The registration's token URL is not a valid http(s) URL: " + token_url.status().message());
  }
  if (!registration.AllowsUrl(*token_url)) {
    return Error(Code::kPermissionDenied, "service.host_not_allowed",
                 "The token URL host " + token_url->host + " is not one of the registration's hosts.");
  }

  const std::string key = RegistrationKey(registration);
  const std::string scope_key = JoinScopes(scopes);
  std::unique_lock lock(mu_);
  TimePoint now = clock_.Now();
  RegistrationEntries& entries = cache_[key];
  for (auto& [k, e] : entries.by_scopes) {
    if (e.token && now < e.token_usable_until && e.token->HasScopes(scopes)) return *e.token;
  }
  Entry& entry = entries.by_scopes[scope_key];
  if (entry.flight) {
    std::shared_ptr<Flight> flight = entry.flight;
    cv_.wait(lock, [&] { return flight->done; });
    if (flight->result->ok()) return CheckGranted(flight->result->value(), scopes);
    if (failure_response) *failure_response = flight->failure_response;
    return flight->result->status();
  }
  if (entry.token && now < entry.token_usable_until) return CheckGranted(*entry.token, scopes);
  if (entry.failure && now < entry.failure_until) {
    if (failure_response) {
      *failure_response = entry.failure_response;
      if (failure_response->retry_after_seconds) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(entry.failure_until - now).count();
        failure_response->retry_after_seconds = static_cast<int>((left + 999) / 1000);
      }
    }
    return *entry.failure;
  }

  auto flight = std::make_shared<Flight>();
  entry.flight = flight;
  ++requests_;
  std::string jti = random_.Token(18);  // 144 bits; Random is not required to be thread-safe
  lock.unlock();

  ServiceResponse response;
  Result<AccessToken> result = Request(registration, scopes, jti, now, &response);

  lock.lock();
  Entry& after = cache_[key].by_scopes[scope_key];
  after.flight.reset();
  TimePoint done_at = clock_.Now();
  if (result.ok()) {
    after.token = *result;
    after.failure.reset();
    after.token_usable_until = result->HasScopes(scopes)
                                   ? result->expires_at
                                   : std::min(result->expires_at, done_at + options_.not_granted_recheck);
    const RegistrationEntries& learned = cache_[key];
    if (learned.learned_lifetime) {
      after.token_usable_until = std::min(after.token_usable_until, result->obtained_at + *learned.learned_lifetime);
    }
  } else if (IsPermanentTokenFailure(result.status())) {
    after.failure = result.status();
    after.failure_response = response;
    after.failure_until = done_at + options_.permanent_failure_ttl;
  } else if (result.status().reason() == "token.unavailable" && response.retry_after_seconds &&
             *response.retry_after_seconds > 0) {
    after.failure = result.status();
    after.failure_response = response;
    after.failure_until =
        done_at + std::min<std::chrono::seconds>(std::chrono::seconds(*response.retry_after_seconds),
                                                 options_.max_retry_after_hold);
  }
  flight->done = true;
  flight->result = result;
  flight->failure_response = response;
  cv_.notify_all();
  lock.unlock();

  if (!result.ok()) {
    if (failure_response) *failure_response = std::move(response);
    return result.status();
  }
  return CheckGranted(*result, scopes);
}

Result<AccessToken> ServiceTokenClient::Request(const Registration& registration,
                                                const std::vector<std::string>& scopes, const std::string& jti,
                                                TimePoint now, ServiceResponse* failure_response) {
  const std::string host = Url::Parse(registration.token_url)->host;
  failure_response->url = registration.token_url;

  auto signing = keys_.Active();
  if (!signing.ok()) {
    return Error(Code::kUnavailable, "token.signing_failed",
                 "No signing key is available for the client assertion: " + signing.status().message());
  }
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json claims = {
      {"iss", registration.client_id},
      {"sub", registration.client_id},
      {"aud", registration.EffectiveTokenAudience()},  // a string: Brightspace rejects arrays
      {"iat", iat},
      {"exp", iat + options_.assertion_lifetime.count()},
      {"jti", jti},
  };
  if (!registration.deployment_ids.empty()) claims[kClaimDeploymentId] = registration.deployment_ids.front();
  auto assertion = jose::SignJwt(claims, signing->key, signing->kid);
  if (!assertion.ok()) {
    return Error(Code::kUnavailable, "token.signing_failed",
                 "Could not sign the client assertion: " + assertion.status().message());
  }

  http::Request request;
  request.method = "POST";
  request.url = registration.token_url;
  request.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  request.headers.Set("Accept", "application/json");
  request.body = EncodeForm({{"grant_type", "client_credentials"},
                             {"client_assertion_type", kAssertionType},
                             {"client_assertion", *assertion},
                             {"scope", JoinScopes(scopes)}});
  LogInfo("token.request", {{"registration", registration.id.str()}, {"host", host}, {"scopes", Labels(scopes)}});

  auto sent = http_.Send(request, options_.request);
  if (!sent.ok()) {
    LogWarn("token.unavailable", {{"registration", registration.id.str()}, {"host", host},
                                  {"reason", sent.status().reason()}});
    return Error(Code::kUnavailable, "token.unavailable",
                 "Could not reach the token endpoint at " + host + ": " + Redact(sent.status().message(), *assertion));
  }
  ServiceResponse response = MakeServiceResponse(registration.token_url, *sent, clock_.Now());
  const int status = response.status;

  if (status >= 200 && status <= 299) {
    response.body.clear();  // may hold a token
    response.headers = http::Headers();
    *failure_response = response;
    auto bad = [&](const std::string& why) {
      LogWarn("token.invalid_response", {{"registration", registration.id.str()}, {"host", host}});
      return Error(Code::kFailedPrecondition, "token.invalid_response",
                   "The token endpoint at " + host + " answered HTTP " + std::to_string(status) + " " + why +
                       "; check the registration's token URL.");
    };
    auto j = ParseJsonQuietly(sent->body);
    if (!j.is_object()) return bad("without a JSON token response");
    auto at = j.find("access_token");
    if (at == j.end() || !at->is_string() || at->get_ref<const std::string&>().empty()) {
      return bad("without an access_token");
    }
    if (auto tt = j.find("token_type"); tt != j.end()) {
      if (!tt->is_string() || !EqualsIgnoreCase(tt->get_ref<const std::string&>(), "bearer")) {
        return bad("with a token_type other than bearer");
      }
    }
    int64_t expires_in = options_.default_expires_in.count();
    if (auto ei = j.find("expires_in"); ei != j.end()) {
      if (ei->is_number()) {
        double v = ei->get<double>();
        if (std::isfinite(v)) expires_in = static_cast<int64_t>(std::clamp<double>(v, 0, 1e9));
      } else if (ei->is_string()) {
        const auto& text = ei->get_ref<const std::string&>();
        if (!text.empty() && text.size() < 10 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          expires_in = std::stoll(text);
        }
      }
    }
    expires_in = std::min<int64_t>(expires_in, options_.max_expires_in.count());
    const int64_t margin = std::min<int64_t>(options_.safety_margin.count(), expires_in / 2);

    AccessToken token;
    token.token = at->get<std::string>();
    token.obtained_at = now;
    token.expires_at = now + std::chrono::seconds(expires_in - margin);
    // RFC 6749 §5.1: scope may be omitted when identical to the request.
    bool scope_sent = false;
    if (auto sc = j.find("scope"); sc != j.end() && sc->is_string() && !Trim(sc->get_ref<const std::string&>()).empty()) {
      scope_sent = true;
      for (auto part : Split(sc->get_ref<const std::string&>(), ' ')) {
        part = Trim(part);
        if (!part.empty()) token.scopes.emplace_back(part);
      }
      std::sort(token.scopes.begin(), token.scopes.end());
      token.scopes.erase(std::unique(token.scopes.begin(), token.scopes.end()), token.scopes.end());
    }
    if (!scope_sent) token.scopes = scopes;
    LogInfo("token.issued", {{"registration", registration.id.str()}, {"host", host},
                             {"granted", Labels(token.scopes)}, {"expires_in", expires_in}});
    return token;
  }

  response.body = Redact(std::move(response.body), *assertion);
  *failure_response = response;
  std::string said = PlatformMessage(response.body);
  std::string evidence = (said.empty() ? std::string() : " Platform said: \"" + said + "\"") + " (HTTP " +
                         std::to_string(status) + " from " + host + ").";

  if (response.rate_limited || status == 408 || status == 429 || status >= 500) {
    LogWarn("token.unavailable", {{"registration", registration.id.str()}, {"host", host}, {"status", status}});
    std::string retry = response.retry_after_seconds
                            ? " Retry after " + std::to_string(*response.retry_after_seconds) + " s."
                            : std::string();
    return Error(Code::kUnavailable, "token.unavailable",
                 std::string("The token endpoint is ") + (response.rate_limited ? "throttling requests" : "unavailable") +
                     "; retry later." + retry + evidence);
  }
  std::string error;
  auto j = ParseJsonQuietly(response.body);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end() && e->is_string()) error = e->get<std::string>();
  }
  if (error.empty() && status == 401) error = "invalid_client";  // RFC 6749 §5.2 allows 401 here
  OAuthErrorInfo info = MapOAuthError(error);
  LogWarn("token.refused", {{"registration", registration.id.str()}, {"host", host}, {"status", status},
                            {"reason", info.reason}});
  std::string message = info.advice;
  if (std::string_view(info.reason) == "token.invalid_scope") message += " Requested: " + Labels(scopes) + ".";
  return Error(info.code, info.reason, message + evidence);
}

std::optional<AccessToken> ServiceTokenClient::Cached(const Registration& registration,
                                                      const std::vector<std::string>& scopes) {
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  std::lock_guard lock(mu_);
  auto it = cache_.find(RegistrationKey(registration));
  if (it == cache_.end()) return std::nullopt;
  TimePoint now = clock_.Now();
  for (auto& [k, e] : it->second.by_scopes) {
    if (e.token && now < e.token_usable_until && e.token->HasScopes(sorted)) return *e.token;
  }
  return std::nullopt;
}

void ServiceTokenClient::Invalidate(const Registration& registration, const std::vector<std::string>& scopes) {
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const std::string scope_key = JoinScopes(sorted);
  std::lock_guard lock(mu_);
  auto it = cache_.find(RegistrationKey(registration));
  if (it == cache_.end()) return;
  for (auto& [k, e] : it->second.by_scopes) {
    if (k == scope_key) {
      e.token.reset();
      e.failure.reset();
    } else if (e.token && e.token->HasScopes(sorted)) {
      e.token.reset();
    }
  }
}

bool ServiceTokenClient::InvalidateRejected(const Registration& registration, std::string_view rejected_token) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(RegistrationKey(registration));
  if (it == cache_.end()) return true;
  RegistrationEntries& entries = it->second;
  for (auto& [k, e] : entries.by_scopes) {
    if (!e.token || !ConstantTimeEquals(e.token->token, rejected_token)) continue;
    TimePoint now = clock_.Now();
    Duration age = now - e.token->obtained_at;
    if (age >= options_.min_age_to_learn_lifetime) {
      // The token worked for a while and is refused now: the platform ends tokens earlier than
      // its expires_in said. Refresh now, and stop using this registration's tokens at 80 % of
      // the age this one reached, so later ones are replaced before they are refused.
      Duration lifetime = std::max<Duration>(std::chrono::duration_cast<Duration>(age * 0.8),
                                             std::chrono::seconds(1));
      if (!entries.learned_lifetime || lifetime < *entries.learned_lifetime) {
        entries.learned_lifetime = lifetime;
        LogWarn("token.lifetime_learned", {{"registration", registration.id.str()},
                                           {"seconds", std::chrono::duration_cast<std::chrono::seconds>(lifetime).count()}});
      }
      e.token.reset();
      return true;
    }
    if (entries.forced_once && now - entries.last_forced_refresh < options_.min_forced_refresh_interval) {
      LogWarn("token.refresh_throttled", {{"registration", registration.id.str()}});
      return false;
    }
    e.token.reset();
    entries.forced_once = true;
    entries.last_forced_refresh = now;
    return true;
  }
  return true;  // already replaced (another caller refreshed) or expired: the next Get gets a new one
}

}  // namespace gb::lti
