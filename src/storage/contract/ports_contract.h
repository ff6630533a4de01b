// The storage contract: parameterized tests every adapter of the ports in lti/ports.h must pass.
//
// An adapter's test binary links gb_storage_contract (which compiles the TEST_Ps in
// ports_contract.cc into it) and instantiates the suite with a factory for fresh, empty stores:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, PortsContractTest,
//       ::testing::Values(ContractBackend{"file", [] { return Stores::Of(MakeTempFileStore()); }}),
//       ContractBackendName);
//
// Conventions the suite pins down beyond the comments in ports.h:
//   - expiry instants are exclusive: a launch token is expired when now >= token_expires_at, and
//     PurgeExpiredNonces(now) removes entries with expires_at <= now (the id_token validator
//     rejects a token at now >= exp + leeway, and nonces are kept until at least then);
//   - FindRegistrationsByIssuer and ListRegistrations return an empty list, not an error, when
//     nothing matches; lists of tenants and registrations are in no particular order;
//   - AddRegistration/UpdateRegistration with a tenant that does not exist fail with kNotFound
//     "tenant.unknown";
//   - service_hosts round-trip verbatim and in order (the store does not validate them), and the
//     passback policy flags independently of each other;
//   - ListKeys orders by created_at descending, keys created in the same second newest-added
//     first; AddKey of a taken kid fails with kConflict "key.exists", RetireKey of an unknown kid
//     with kNotFound "key.unknown";
//   - SaveLaunch of a taken id or token_hash fails with kConflict "launch.exists", GetLaunch of an
//     unknown id with kNotFound "launch.unknown"; a launch may have an empty token_hash (no
//     hand-off token), any number of them may exist, and "" never redeems;
//   - FindTenantByApiKeyHash("") never finds a tenant (tenants without a key store "");
//   - a launch does not require its tenant or registration to exist (launches are history and
//     survive RemoveRegistration);
//   - roster (roster_contract.cc): members are scoped by (registration, context); a full sync
//     marks the members it did not return Deleted, a differences sync touches only the members
//     it names; absent personal fields read back as absent; the role filter matches whole URIs;
//     the sync state and members go with RemoveRegistration;
//   - a passback key requires its tenant (kNotFound "tenant.unknown"); AddPassbackKey of a taken
//     id fails with kConflict "passback_key.exists"; the secret hash round-trips byte for byte
//     and is never matched by the store (callers compare it in constant time).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "lti/ports.h"
#include "lti/roster.h"

namespace gb::storage::contract {

// The ports of one store under test, and what keeps it alive.
struct Stores {
  std::shared_ptr<void> owner;
  lti::TenantStore* tenants = nullptr;
  lti::RegistrationStore* registrations = nullptr;
  lti::NonceStore* nonces = nullptr;
  lti::KeyStore* keys = nullptr;
  lti::LaunchStore* launches = nullptr;
  lti::PassbackKeyStore* passback_keys = nullptr;
  lti::MemberStore* members = nullptr;  // roster_contract.cc

  // For an adapter implementing every port in one class (SqliteStore). `owner` may carry extra
  // cleanup (a custom deleter that also removes a temporary directory).
  template <typename T>
  static Stores Of(std::shared_ptr<T> store) {
    Stores s;
    s.tenants = store.get();
    s.registrations = store.get();
    s.nonces = store.get();
    s.keys = store.get();
    s.launches = store.get();
    s.passback_keys = store.get();
    s.members = store.get();
    s.owner = std::move(store);
    return s;
  }
};

struct ContractBackend {
  std::string name;              // [A-Za-z0-9_]+, used in test names
  std::function<Stores()> make;  // a fresh, empty store each call
  // A second handle on the same database as `first`, if the backend supports it (another
  // connection/process view); used by the cross-instance tests, skipped when empty.
  std::function<Stores(const Stores& first)> reopen;
};

// So gtest and ctest print "File" rather than the object's bytes.
inline void PrintTo(const ContractBackend& backend, std::ostream* os) { *os << backend.name; }

inline std::string ContractBackendName(const ::testing::TestParamInfo<ContractBackend>& info) {
  return info.param.name;
}

class PortsContractTest : public ::testing::TestWithParam<ContractBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A tenant with a unique name, added to the store.
  lti::Tenant AddTenant(const std::string& name);
  lti::Registration MakeRegistration(const lti::Tenant& tenant, const std::string& id, const std::string& issuer,
                                     const std::string& client_id);
  lti::StoredLaunch MakeLaunch(const std::string& id, const std::string& token_hash, int64_t expires_at);
  lti::PassbackKey MakePassbackKey(const lti::Tenant& tenant, const std::string& id, int64_t created_at);

  Stores s_;
};

}  // namespace gb::storage::contract
