// In-memory port implementations for lti/ unit tests (the real adapters are tested against the
// shared contract suite in storage/).
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "lti/ports.h"
#include "lti/roster.h"

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

// The MemberStore contract in memory (storage/contract/roster_contract.cc pins it down).
class MemoryMembers final : public MemberStore {
 public:
  Status ApplyRosterSync(const RosterState& state, const std::vector<Member>& members, bool full,
                         int64_t now) override {
    std::lock_guard lock(mu_);
    ++applies;
    const std::string key = Key(state.registration_id, state.context_id);
    states_[key] = state;
    auto& roster = members_[key];
    if (full) {
      for (auto& [id, m] : roster) {
        if (m.member.status != MemberStatus::kDeleted) m = StoredMember{WithStatus(m.member, MemberStatus::kDeleted), now};
      }
    }
    for (const auto& m : members) roster[m.user_id] = StoredMember{m, now};
    return Status::Ok();
  }
  Result<std::optional<RosterState>> GetRosterState(const RegistrationId& r, std::string_view c) override {
    std::lock_guard lock(mu_);
    auto it = states_.find(Key(r, c));
    if (it == states_.end()) return std::optional<RosterState>();
    return std::optional<RosterState>(it->second);
  }
  Result<std::vector<RosterState>> ListRosterStates(const RegistrationId& r) override {
    std::lock_guard lock(mu_);
    std::vector<RosterState> out;
    for (const auto& [k, st] : states_) {
      if (st.registration_id == r) out.push_back(st);
    }
    return out;
  }
  Result<std::vector<StoredMember>> ListMembers(const RegistrationId& r, std::string_view c,
                                                const MemberQuery& q) override {
    std::lock_guard lock(mu_);
    std::vector<StoredMember> out;
    for (const auto& [id, m] : members_[Key(r, c)]) {
      if (q.status && m.member.status != *q.status) continue;
      if (q.current_only && m.member.status == MemberStatus::kDeleted) continue;
      if (!q.role.empty() &&
          std::find(m.member.roles.begin(), m.member.roles.end(), q.role) == m.member.roles.end()) {
        continue;
      }
      if (static_cast<int>(out.size()) >= q.limit) break;
      out.push_back(m);
    }
    return out;
  }
  Result<std::optional<StoredMember>> FindMember(const RegistrationId& r, std::string_view c,
                                                 std::string_view user) override {
    std::lock_guard lock(mu_);
    auto& roster = members_[Key(r, c)];
    auto it = roster.find(std::string(user));
    if (it == roster.end()) return std::optional<StoredMember>();
    return std::optional<StoredMember>(it->second);
  }
  Result<std::string> LatestLaunchMembershipsUrl(const RegistrationId& r, std::string_view c) override {
    std::lock_guard lock(mu_);
    auto it = launch_urls.find(Key(r, c));
    return it == launch_urls.end() ? std::string() : it->second;
  }

  static std::string Key(const RegistrationId& r, std::string_view c) { return r.str() + "\n" + std::string(c); }
  std::map<std::string, std::string> launch_urls;  // Key() -> URL, as launches would provide
  int applies = 0;

 private:
  static Member WithStatus(Member m, MemberStatus s) {
    m.status = s;
    return m;
  }
  std::mutex mu_;
  std::map<std::string, RosterState> states_;
  std::map<std::string, std::map<std::string, StoredMember>> members_;
};

}  // namespace gb::lti::testing
