// CachedRegistrations: a RegistrationStore that keeps what it read from another one for a short
// time. Every login and every launch looks its registration up; without this each lookup is a
// SQLite read transaction (a quarter of a login's CPU).
//
// Contract:
//   - Lookups that found something are served from memory for `ttl`; lookups that found nothing
//     are never cached, so a registration added (here or by the admin CLI in another process)
//     is usable at once.
//   - Writes go to the underlying store and, when they succeed, drop the whole cache, so this
//     process sees its own changes at once. A change made by another process (the admin CLI,
//     another node) is seen within `ttl`: a removed registration keeps launching for at most
//     that long, which is why the default is short.
//   - List calls are not cached (admin use only).
//   - Thread-safe; the cache is bounded by the number of registrations, which is small.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "lti/ports.h"

namespace gb::lti {

class CachedRegistrations final : public RegistrationStore {
 public:
  CachedRegistrations(RegistrationStore& inner, Clock& clock, std::chrono::milliseconds ttl);

  Status AddRegistration(const Registration& registration) override;
  Status UpdateRegistration(const Registration& registration) override;
  Result<Registration> GetRegistration(const RegistrationId& id) override;
  Result<Registration> FindRegistration(std::string_view issuer, std::string_view client_id) override;
  Result<std::vector<Registration>> FindRegistrationsByIssuer(std::string_view issuer) override;
  Result<std::vector<Registration>> ListRegistrations(const std::optional<TenantId>& tenant) override;
  Status RemoveRegistration(const RegistrationId& id) override;

  // Forgets everything (tests; an admin action that must take effect at once).
  void Clear();

 private:
  template <typename V>
  struct Entry {
    V value;
    int64_t expires_ms = 0;
  };
  template <typename V, typename Load>
  Result<V> Lookup(std::map<std::string, Entry<V>, std::less<>>& cache, const std::string& key, Load load);
  Status Invalidating(Status status);
  int64_t NowMs() const;

  RegistrationStore& inner_;
  Clock& clock_;
  const int64_t ttl_ms_;
  std::shared_mutex mu_;
  std::map<std::string, Entry<Registration>, std::less<>> by_id_;            // guarded by mu_
  std::map<std::string, Entry<Registration>, std::less<>> by_client_;        // "iss\nclient_id"
  std::map<std::string, Entry<std::vector<Registration>>, std::less<>> by_issuer_;
};

}  // namespace gb::lti
