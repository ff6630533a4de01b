// JwksCache: platform key sets fetched over HttpClient and cached per JWKS URL.
//   - entries live for the response's Cache-Control max-age, clamped to [min_ttl, max_ttl]
//     (default_ttl when absent; Brightspace sends no-cache and rotates hourly, so no-cache means
//     min_ttl rather than "fetch on every launch");
//   - single flight: concurrent misses for one URL wait for one fetch;
//   - an unknown kid triggers a refetch (key rotation, SEC §6.4) at most once per
//     unknown_kid_refetch_interval per URL, so a flood of forged kids cannot turn into a flood of
//     requests to the platform;
//   - a failed refresh keeps serving the previous key set until max_stale.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "http/client.h"
#include "lti/jwks_provider.h"

namespace gb::lti {

struct JwksCacheOptions {
  std::chrono::seconds default_ttl{3600};
  std::chrono::seconds min_ttl{60};
  std::chrono::seconds max_ttl{86400};
  std::chrono::seconds unknown_kid_refetch_interval{10};
  std::chrono::seconds max_stale{86400};
};

class JwksCache final : public JwksProvider {
 public:
  JwksCache(http::HttpClient& client, Clock& clock, JwksCacheOptions options = {});
  Result<jose::RsaPublicKey> FindKey(const Registration& registration, std::string_view kid) override;

  // Number of HTTP fetches made (for tests and metrics).
  int64_t fetch_count() const;

 private:
  struct Entry {
    std::shared_ptr<const jose::Jwks> jwks;
    TimePoint fetched_at{};
    TimePoint expires_at{};
    TimePoint last_forced{};
    bool fetching = false;
  };
  // Returns the current key set for url, fetching when absent/expired or when `force`.
  Result<std::shared_ptr<const jose::Jwks>> Get(const std::string& url, bool force);
  Result<std::pair<std::shared_ptr<const jose::Jwks>, std::chrono::seconds>> Fetch(const std::string& url);

  http::HttpClient& client_;
  Clock& clock_;
  JwksCacheOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
  int64_t fetches_ = 0;
};

}  // namespace gb::lti
