// The simulator's OAuth 2.0 token endpoint (POST /sim/token): client_credentials with an RS256
// JWT client assertion (RFC 7523, LTI SEC §4.1), verified against the tool's own JWKS fetched
// from its registered jwks_url. Per-profile rules are in docs/simulator.md; the handler itself is
// Platform::HandleToken (token_endpoint.cc).
//
// Also here: the store of issued access tokens (opaque, 1 h) that AGS checks, and the cache of
// tool JWKS documents.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/client.h"
#include "jose/jose.h"

namespace gb::sim {

// D2L's fixed client-assertion audience ("Brightspace OAuth2 Audience").
inline constexpr char kBrightspaceAudience[] = "https://api.brightspace.com/auth/token";
inline constexpr char kClientAssertionType[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
inline constexpr int64_t kAccessTokenLifetimeSeconds = 3600;

struct AccessToken {
  std::string client_id;
  std::vector<std::string> scopes;
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;
  bool HasScope(std::string_view scope) const;
};

// Issued tokens, by token value. Expired tokens are kept a while (so a late call gets "expired",
// not "unknown"), then purged; at most `max_tokens` are kept (oldest dropped first).
class AccessTokenStore {
 public:
  explicit AccessTokenStore(size_t max_tokens = 100'000) : max_tokens_(max_tokens) {}
  void Add(std::string token, AccessToken record, int64_t now_ms);
  std::optional<AccessToken> Find(std::string_view token) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  size_t max_tokens_;
  std::map<std::string, AccessToken, std::less<>> tokens_;
  std::multimap<int64_t, std::string> by_expiry_;
};

// Single-use assertion ids: a jti is remembered until the assertion's exp (at least 10 minutes).
class JtiRegistry {
 public:
  // False when (client_id, jti) was seen and has not expired yet.
  bool Use(std::string_view client_id, std::string_view jti, int64_t expires_s, int64_t now_s);

 private:
  std::mutex mu_;
  std::map<std::string, int64_t, std::less<>> seen_;
  std::multimap<int64_t, std::string> by_expiry_;
};

// The tools' JWKS documents, fetched over an HttpClient and cached per URL for `max_age`; a kid
// that is not in the cached set triggers one refetch (key rotation).
class ToolJwksCache {
 public:
  ToolJwksCache(const Clock& clock, int64_t max_age_s = 300) : clock_(clock), max_age_s_(max_age_s) {}
  // The key for `kid` at `url`. Errors: "sim.jwks_fetch" (unreachable, non-200, malformed) and
  // "sim.unknown_kid".
  Result<jose::RsaPublicKey> Key(http::HttpClient& client, const std::string& url, std::string_view kid);
  uint64_t fetches() const;

 private:
  Result<std::shared_ptr<const jose::Jwks>> Fetch(http::HttpClient& client, const std::string& url);
  struct Entry {
    std::shared_ptr<const jose::Jwks> jwks;
    int64_t fetched_s = 0;
  };
  const Clock& clock_;
  int64_t max_age_s_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  uint64_t fetches_ = 0;
};

}  // namespace gb::sim
