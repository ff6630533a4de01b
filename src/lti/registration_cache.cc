#include "lti/registration_cache.h"

#include <mutex>

namespace gb::lti {

CachedRegistrations::CachedRegistrations(RegistrationStore& inner, Clock& clock, std::chrono::milliseconds ttl)
    : inner_(inner), clock_(clock), ttl_ms_(ttl.count()) {}

int64_t CachedRegistrations::NowMs() const { return clock_.NowMillis(); }

template <typename V, typename Load>
Result<V> CachedRegistrations::Lookup(std::map<std::string, Entry<V>, std::less<>>& cache, const std::string& key,
                                      Load load) {
  const int64_t now = NowMs();
  {
    std::shared_lock lock(mu_);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.expires_ms > now) return it->second.value;
  }
  Result<V> loaded = load();
  if (loaded.ok() && ttl_ms_ > 0) {
    std::unique_lock lock(mu_);
    cache[key] = Entry<V>{*loaded, now + ttl_ms_};
  }
  return loaded;
}

Result<Registration> CachedRegistrations::GetRegistration(const RegistrationId& id) {
  return Lookup(by_id_, id.str(), [&] { return inner_.GetRegistration(id); });
}

Result<Registration> CachedRegistrations::FindRegistration(std::string_view issuer, std::string_view client_id) {
  std::string key;
  key.reserve(issuer.size() + 1 + client_id.size());
  key.append(issuer).append(1, '\n').append(client_id);
  return Lookup(by_client_, key, [&] { return inner_.FindRegistration(issuer, client_id); });
}

Result<std::vector<Registration>> CachedRegistrations::FindRegistrationsByIssuer(std::string_view issuer) {
  // An empty answer is "found nothing": not cached, like a failed lookup.
  auto load = [&]() -> Result<std::vector<Registration>> {
    auto found = inner_.FindRegistrationsByIssuer(issuer);
    if (found.ok() && found->empty()) {
      return Error(Code::kNotFound, "registration.unknown", "No registration for this issuer.");
    }
    return found;
  };
  auto found = Lookup(by_issuer_, std::string(issuer), load);
  if (!found.ok() && found.status().code() == Code::kNotFound) return std::vector<Registration>{};
  return found;
}

Result<std::vector<Registration>> CachedRegistrations::ListRegistrations(const std::optional<TenantId>& tenant) {
  return inner_.ListRegistrations(tenant);
}

Status CachedRegistrations::Invalidating(Status status) {
  if (status.ok()) Clear();
  return status;
}

Status CachedRegistrations::AddRegistration(const Registration& registration) {
  return Invalidating(inner_.AddRegistration(registration));
}

Status CachedRegistrations::UpdateRegistration(const Registration& registration) {
  return Invalidating(inner_.UpdateRegistration(registration));
}

Status CachedRegistrations::RemoveRegistration(const RegistrationId& id) {
  return Invalidating(inner_.RemoveRegistration(id));
}

void CachedRegistrations::Clear() {
  std::unique_lock lock(mu_);
  by_id_.clear();
  by_client_.clear();
  by_issuer_.clear();
}

}  // namespace gb::lti
