// In-memory port implementations for lti/ unit tests (the real adapters are tested against the
// shared contract suite in storage/).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "lti/ports.h"

namespace gb::lti::testing {

class MemoryRegistrations final : public RegistrationStore {
 public:
  Status AddRegistration(const Registration& r) override {
    regs_[r.id.str()] = r;
    return Status::Ok();
  }
  Status UpdateRegistration(const Registration& r) override { return AddRegistration(r); }
  Result<Registration> GetRegistration(const RegistrationId& id) override {
    auto it = regs_.find(id.str());
    if (it == regs_.end()) return Error(Code::kNotFound, "registration.unknown", "no such registration");
    return it->second;
  }
  Result<Registration> FindRegistration(std::string_view iss, std::string_view client) override {
    for (auto& [id, r] : regs_) {
      if (r.issuer == iss && r.client_id == client) return r;
    }
    return Error(Code::kNotFound, "registration.unknown", "no such registration");
  }
  Result<std::vector<Registration>> FindRegistrationsByIssuer(std::string_view iss) override {
    std::vector<Registration> out;
    for (auto& [id, r] : regs_) {
      if (r.issuer == iss) out.push_back(r);
    }
    return out;
  }
  Result<std::vector<Registration>> ListRegistrations(const std::optional<TenantId>&) override {
    std::vector<Registration> out;
    for (auto& [id, r] : regs_) out.push_back(r);
    return out;
  }
  Status RemoveRegistration(const RegistrationId& id) override {
    regs_.erase(id.str());
    return Status::Ok();
  }

 private:
  std::map<std::string, Registration> regs_;
};

class MemoryNonces final : public NonceStore {
 public:
  Status ConsumeNonce(std::string_view scope, std::string_view value, int64_t) override {
    std::lock_guard lock(mu_);
    if (!seen_.insert(std::string(scope) + "|" + std::string(value)).second) {
      return Error(Code::kConflict, "nonce.replayed", "replayed");
    }
    return Status::Ok();
  }
  Result<int64_t> PurgeExpiredNonces(int64_t) override { return int64_t{0}; }

 private:
  std::mutex mu_;
  std::set<std::string> seen_;
};

class MemoryKeys final : public KeyStore {
 public:
  Status AddKey(const StoredKey& key) override {
    keys_.insert(keys_.begin(), key);
    return Status::Ok();
  }
  Result<std::vector<StoredKey>> ListKeys() override { return keys_; }
  Status RetireKey(std::string_view kid, int64_t retired_at, int64_t publish_until) override {
    for (auto& k : keys_) {
      if (k.kid == kid) {
        k.retired_at = retired_at;
        k.publish_until = publish_until;
        return Status::Ok();
      }
    }
    return Error(Code::kNotFound, "key.unknown", "no such key");
  }
  std::vector<StoredKey> keys_;
};

class MemoryLaunches final : public LaunchStore {
 public:
  Status SaveLaunch(const StoredLaunch& l) override {
    launches_[l.id] = l;
    return Status::Ok();
  }
  Result<StoredLaunch> RedeemLaunchToken(std::string_view hash, int64_t now) override {
    for (auto& [id, l] : launches_) {
      if (l.token_hash != hash) continue;
      if (used_.count(id)) return Error(Code::kConflict, "launch_token.used", "used");
      if (now >= l.token_expires_at) return Error(Code::kUnauthenticated, "launch_token.expired", "expired");
      used_.insert(id);
      return l;
    }
    return Error(Code::kNotFound, "launch_token.unknown", "unknown");
  }
  Result<StoredLaunch> GetLaunch(std::string_view id) override {
    auto it = launches_.find(std::string(id));
    if (it == launches_.end()) return Error(Code::kNotFound, "launch.unknown", "unknown");
    return it->second;
  }

 private:
  std::map<std::string, StoredLaunch> launches_;
  std::set<std::string> used_;
};

}  // namespace gb::lti::testing
