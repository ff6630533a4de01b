#include "lti/tenant_cache.h"

#include <mutex>

namespace gb::lti {

CachedTenants::CachedTenants(TenantStore& inner, Clock& clock, std::chrono::milliseconds ttl)
    : inner_(inner), clock_(clock), ttl_ms_(ttl.count()) {}

template <typename Load>
Result<Tenant> CachedTenants::Lookup(std::map<std::string, Entry, std::less<>>& cache, std::string_view key,
                                     Load load) {
  const int64_t now = clock_.NowMillis();
  {
    std::shared_lock lock(mu_);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.expires_ms > now) return it->second.tenant;
  }
  Result<Tenant> loaded = load();
  if (loaded.ok() && ttl_ms_ > 0) {
    std::unique_lock lock(mu_);
    cache.insert_or_assign(std::string(key), Entry{*loaded, now + ttl_ms_});
  }
  return loaded;
}

Result<Tenant> CachedTenants::FindTenantByApiKeyHash(std::string_view api_key_hash) {
  return Lookup(by_key_hash_, api_key_hash, [&] { return inner_.FindTenantByApiKeyHash(api_key_hash); });
}

Result<Tenant> CachedTenants::FindTenantById(const TenantId& id) {
  return Lookup(by_id_, id.str(), [&] { return inner_.FindTenantById(id); });
}

Status CachedTenants::AddTenant(const Tenant& tenant) {
  Status s = inner_.AddTenant(tenant);
  if (s.ok()) {
    std::unique_lock lock(mu_);
    by_key_hash_.clear();
    by_id_.clear();
  }
  return s;
}

}  // namespace gb::lti
