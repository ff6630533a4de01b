// CachedTenants: a TenantStore that remembers, for a short time, which tenant an API key hash
// belongs to. Every tool API request authenticates; without this each one is a SQLite read.
//
// Contract (as CachedRegistrations): hits are served from memory for `ttl`; misses (an unknown
// key) are never cached, so a tenant added by the admin CLI works at once; this process's own
// writes clear the cache; another process's changes are seen within `ttl`. Only the key-hash and
// id lookups are cached. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <shared_mutex>
#include <string>

#include "base/clock.h"
#include "lti/ports.h"

namespace gb::lti {

class CachedTenants final : public TenantStore {
 public:
  CachedTenants(TenantStore& inner, Clock& clock, std::chrono::milliseconds ttl);

  Status AddTenant(const Tenant& tenant) override;
  Result<Tenant> FindTenantByName(std::string_view name) override { return inner_.FindTenantByName(name); }
  Result<Tenant> FindTenantById(const TenantId& id) override;
  Result<Tenant> FindTenantByApiKeyHash(std::string_view api_key_hash) override;
  Result<std::vector<Tenant>> ListTenants() override { return inner_.ListTenants(); }

 private:
  struct Entry {
    Tenant tenant;
    int64_t expires_ms = 0;
  };
  template <typename Load>
  Result<Tenant> Lookup(std::map<std::string, Entry, std::less<>>& cache, std::string_view key, Load load);

  TenantStore& inner_;
  Clock& clock_;
  const int64_t ttl_ms_;
  std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> by_key_hash_;  // guarded by mu_
  std::map<std::string, Entry, std::less<>> by_id_;        // guarded by mu_
};

}  // namespace gb::lti
