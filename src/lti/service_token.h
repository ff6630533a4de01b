// ServiceTokenClient: OAuth 2.0 client-credentials grant with a signed JWT client assertion
// (lti-digest §2; LTI Security Framework §4.1; RFC 7523) — the access tokens AGS and NRPS need.
//
// Assertion: RS256 with the KeyRing's active key, header {"alg":"RS256","typ":"JWT","kid"};
// iss = sub = client_id; aud = Registration::EffectiveTokenAudience() as a JSON string (Brightspace
// rejects arrays); iat = now; exp = now + 300 s; jti = 144 random bits; the LTI deployment_id
// claim with the registration's first deployment (CORE §6.2.1).
//
// Caching (docs/services.md): per (registration, sorted scope set), until expires_in minus a
// safety margin (60 s, at most half the lifetime). A cached token whose granted scopes cover the
// requested ones is reused whatever scope set it was requested for. Concurrent misses for one key
// share one request (single flight). A permanent token failure is remembered for
// permanent_failure_ttl and a throttled/unavailable answer for its Retry-After (capped), so a
// misconfigured registration cannot turn a queue of scores into a storm of token requests
// (Canvas charges 200 units of its rate-limit bucket per token request).
//
// Errors (Status reasons; messages are plain language and never contain the token or assertion):
//   token.invalid_client, token.invalid_grant, token.unauthorized_client, token.invalid_scope
//                                    kPermissionDenied — fix the registration / platform config
//   token.invalid_request, token.unsupported_grant_type, token.rejected (other 4xx),
//   token.invalid_response (2xx without a usable bearer token), token.invalid_url
//                                    kFailedPrecondition
//   token.unavailable                kUnavailable — transport error, 408, 429, 5xx, Canvas 403
//                                    throttling; the failure ServiceResponse has Retry-After
//   token.signing_failed             kUnavailable — no active signing key
//   service.not_granted              kPermissionDenied — the platform granted fewer scopes
//   service.host_not_allowed         kPermissionDenied — token URL host not in AllowedHosts()
//   token.invalid_scopes             kInvalidArgument — empty scope list or a malformed scope
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "http/client.h"
#include "lti/key_ring.h"
#include "lti/registration.h"
#include "lti/service_response.h"

namespace gb::lti {

struct AccessToken {
  std::string token;                // opaque bearer token: never log it or put it in a message
  TimePoint expires_at{};           // when gradebridge stops using it (platform expiry − margin)
  std::vector<std::string> scopes;  // granted scopes, sorted and unique
  TimePoint obtained_at{};

  // True when every scope in `needed` was granted.
  bool HasScopes(const std::vector<std::string>& needed) const;
};

struct ServiceTokenOptions {
  std::chrono::seconds assertion_lifetime{300};
  // Subtracted from expires_in; never more than half of it, so short-lived tokens are still reused.
  std::chrono::seconds safety_margin{60};
  std::chrono::seconds default_expires_in{3600};  // when the platform omits expires_in
  std::chrono::seconds max_expires_in{86400};     // clamp for absurd values
  // A token a platform answered with fewer scopes than asked is rechecked after this long.
  std::chrono::seconds not_granted_recheck{300};
  // Permanent token failures (invalid_client, invalid_scope, ...) are answered from memory this long.
  std::chrono::seconds permanent_failure_ttl{120};
  // An unavailable/throttled token endpoint is not asked again for min(Retry-After, this).
  std::chrono::seconds max_retry_after_hold{300};
  // InvalidateRejected drops a token at most once per interval per registration (see there).
  std::chrono::seconds min_forced_refresh_interval{60};
  // A token refused after it had been in use at least this long is taken as expired early (some
  // platforms end tokens before expires_in): it is dropped whatever the interval above, and the
  // registration's later tokens are used for at most 80 % of the age it reached.
  std::chrono::seconds min_age_to_learn_lifetime{5};
  http::RequestOptions request{std::chrono::milliseconds(5'000), std::chrono::milliseconds(20'000), 256 * 1024};
};

class ServiceTokenClient {
 public:
  ServiceTokenClient(http::HttpClient& http, const KeyRing& keys, Clock& clock, Random& random,
                     ServiceTokenOptions options = {});

  // A token granting every scope in `scopes` (sorted and de-duplicated here). On failure, when
  // `failure_response` is given, it receives the token endpoint's answer (status 0 for a transport
  // failure) — notably retry_after_seconds and rate_limited — so a caller can back off.
  Result<AccessToken> Get(const Registration& registration, std::vector<std::string> scopes,
                          ServiceResponse* failure_response = nullptr);

  // A cached, unexpired token covering `scopes`, without any request.
  std::optional<AccessToken> Cached(const Registration& registration, const std::vector<std::string>& scopes);

  // Forgets every cached token that could serve `scopes` for this registration, and any remembered
  // failure for that scope set. Unconditional (admin action, tests).
  void Invalidate(const Registration& registration, const std::vector<std::string>& scopes);

  // After a service answered 401 to `rejected_token`: drops that token so the next Get fetches a
  // new one. A token at least min_age_to_learn_lifetime old is always dropped (it expired early;
  // the lifetime is learnt, see the option). A younger one is dropped unless a forced refresh for this registration happened less than
  // min_forced_refresh_interval ago (then nothing is dropped and false is returned: a token just
  // issued and already refused points at a scope/key/installation problem, and refreshing again
  // would only spend the platform's rate-limit budget). Returns true when a retry with the token
  // Get now returns may help — also when the rejected token was already replaced by another caller.
  bool InvalidateRejected(const Registration& registration, std::string_view rejected_token);

  // Token requests sent (tests and metrics: each costs Canvas 200 rate-limit units).
  int64_t request_count() const;
  Clock& clock() const { return clock_; }

 private:
  struct Flight {
    bool done = false;
    std::optional<Result<AccessToken>> result;
    ServiceResponse failure_response;
  };
  struct Entry {
    std::optional<AccessToken> token;
    TimePoint token_usable_until{};  // ≤ token->expires_at (earlier when scopes were not granted)
    std::optional<Status> failure;
    ServiceResponse failure_response;
    TimePoint failure_until{};
    std::shared_ptr<Flight> flight;
  };
  struct RegistrationEntries {
    std::map<std::string, Entry> by_scopes;  // key: sorted scopes joined by ' '
    TimePoint last_forced_refresh{};
    bool forced_once = false;
    std::optional<Duration> learned_lifetime;  // see min_age_to_learn_lifetime
  };

  static std::string RegistrationKey(const Registration& registration);
  Result<AccessToken> Request(const Registration& registration, const std::vector<std::string>& scopes,
                              const std::string& jti, TimePoint now, ServiceResponse* failure_response);
  Result<AccessToken> CheckGranted(const AccessToken& token, const std::vector<std::string>& scopes) const;

  http::HttpClient& http_;
  const KeyRing& keys_;
  Clock& clock_;
  Random& random_;
  ServiceTokenOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, RegistrationEntries> cache_;
  int64_t requests_ = 0;
};

// "https://purl.imsglobal.org/spec/lti-ags/scope/score" → "score" (for messages).
std::string ScopeLabel(std::string_view scope);

}  // namespace gb::lti
