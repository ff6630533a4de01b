// Ports: the storage interfaces the LTI core needs. Adapters in storage/ implement them; the
// shared contract tests in storage/ hold every implementation to the same behaviour.
// All methods are thread-safe. Times are unix seconds unless named otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lti/registration.h"

namespace gb::lti {

class TenantStore {
 public:
  virtual ~TenantStore() = default;
  // kConflict "tenant.exists" when the name is taken.
  virtual Status AddTenant(const Tenant& tenant) = 0;
  // kNotFound "tenant.unknown".
  virtual Result<Tenant> FindTenantByName(std::string_view name) = 0;
  virtual Result<Tenant> FindTenantById(const TenantId& id) = 0;
  virtual Result<Tenant> FindTenantByApiKeyHash(std::string_view api_key_hash) = 0;
  virtual Result<std::vector<Tenant>> ListTenants() = 0;
};

class RegistrationStore {
 public:
  virtual ~RegistrationStore() = default;
  // kConflict "registration.exists" when (issuer, client_id) is taken.
  virtual Status AddRegistration(const Registration& registration) = 0;
  // Replaces every field of the stored registration with the same id, deployments, service hosts
  // and passback policy included, atomically: kNotFound "registration.unknown" if there is none,
  // kConflict "registration.exists" / kNotFound "tenant.unknown" as for Add, and then nothing
  // changes. Callers changing a few fields read, modify and write the whole registration.
  virtual Status UpdateRegistration(const Registration& registration) = 0;
  // kNotFound "registration.unknown" for the getters below.
  virtual Result<Registration> GetRegistration(const RegistrationId& id) = 0;
  virtual Result<Registration> FindRegistration(std::string_view issuer, std::string_view client_id) = 0;
  virtual Result<std::vector<Registration>> FindRegistrationsByIssuer(std::string_view issuer) = 0;
  // All registrations, or only a tenant's.
  virtual Result<std::vector<Registration>> ListRegistrations(const std::optional<TenantId>& tenant) = 0;
  virtual Status RemoveRegistration(const RegistrationId& id) = 0;
};

// Single-use values (id_token nonces, client-assertion jti). Consume is one atomic insert: the
// first call for (scope, value) succeeds, every later one fails with kConflict "nonce.replayed",
// also across processes sharing the database. Entries are kept until expires_at.
class NonceStore {
 public:
  virtual ~NonceStore() = default;
  virtual Status ConsumeNonce(std::string_view scope, std::string_view value, int64_t expires_at) = 0;
  virtual Result<int64_t> PurgeExpiredNonces(int64_t now) = 0;
};

// The tool's own signing keys; private keys are stored sealed (jose::Seal) by the caller.
struct StoredKey {
  std::string kid;
  std::string sealed_private_key;  // opaque blob
  std::string public_jwk_json;
  int64_t created_at = 0;
  int64_t retired_at = 0;          // 0 while active (the newest active key signs)
  int64_t publish_until = 0;       // 0 while active; after retirement, published until then
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Status AddKey(const StoredKey& key) = 0;
  // Newest first.
  virtual Result<std::vector<StoredKey>> ListKeys() = 0;
  virtual Status RetireKey(std::string_view kid, int64_t retired_at, int64_t publish_until) = 0;
};

// Launch hand-off records. The launch itself is stored as JSON (lti::Launch::ToJson) with a few
// indexed columns; the one-time token is stored only as its hash.
struct StoredLaunch {
  std::string id;
  TenantId tenant_id;
  RegistrationId registration_id;
  std::string launch_json;
  std::string token_hash;
  int64_t created_at = 0;
  int64_t token_expires_at = 0;
};

class LaunchStore {
 public:
  virtual ~LaunchStore() = default;
  virtual Status SaveLaunch(const StoredLaunch& launch) = 0;
  // Atomically marks the token used and returns the launch. kNotFound "launch_token.unknown" for an
  // unknown token, kConflict "launch_token.used" for a second redemption, kUnauthenticated
  // "launch_token.expired" after token_expires_at.
  virtual Result<StoredLaunch> RedeemLaunchToken(std::string_view token_hash, int64_t now) = 0;
  virtual Result<StoredLaunch> GetLaunch(std::string_view id) = 0;
};

// Passback-only credentials for POST /lti/grade_passback (what Learnosity calls an "LTI key"):
// a public id, used as the HTTP Basic user name, and a secret stored only as its hash. They
// authenticate grade passback for their tenant and nothing else.
struct PassbackKey {
  std::string id;           // public and unique ("gbpk_…")
  TenantId tenant_id;
  std::string secret_hash;  // hex SHA-256 of the secret; the secret itself is never stored
  int64_t created_at = 0;
};

class PassbackKeyStore {
 public:
  virtual ~PassbackKeyStore() = default;
  // kConflict "passback_key.exists" when the id is taken; kNotFound "tenant.unknown" when the
  // tenant does not exist.
  virtual Status AddPassbackKey(const PassbackKey& key) = 0;
  // kNotFound "passback_key.unknown" (also for "").
  virtual Result<PassbackKey> FindPassbackKey(std::string_view id) = 0;
  // All keys, or only a tenant's; oldest first (created_at, then id). Empty when none match.
  virtual Result<std::vector<PassbackKey>> ListPassbackKeys(const std::optional<TenantId>& tenant) = 0;
  // kNotFound "passback_key.unknown". The key stops authenticating at once.
  virtual Status RemovePassbackKey(std::string_view id) = 0;
};

// LTI 1.1 consumer credentials (gradebridge lti11-key add): the OAuth 1.0a consumer key and
// secret a platform signs 1.1 launches with, and gradebridge signs Basic Outcomes calls with. The
// secret must be usable for signing, so it is stored sealed with the data key (jose::Seal, aad
// "lti11:" + consumer_key) by the caller, never in the clear and never as a hash. Each key
// belongs to a tenant and to the registration its launches and outcome calls are held to (its
// allowed hosts and passback policy).
struct Lti11Consumer {
  std::string consumer_key;   // public and unique
  TenantId tenant_id;
  RegistrationId registration_id;
  std::string sealed_secret;  // opaque blob
  int64_t created_at = 0;
};

class Lti11ConsumerStore {
 public:
  virtual ~Lti11ConsumerStore() = default;
  // kConflict "lti11_key.exists" when the key is taken; kNotFound "lti11_key.bad_owner" when the
  // tenant or the registration does not exist.
  virtual Status AddLti11Consumer(const Lti11Consumer& consumer) = 0;
  // kNotFound "lti11_key.unknown" (also for "").
  virtual Result<Lti11Consumer> FindLti11Consumer(std::string_view consumer_key) = 0;
  // All, or only a tenant's; oldest first (created_at, then key).
  virtual Result<std::vector<Lti11Consumer>> ListLti11Consumers(const std::optional<TenantId>& tenant) = 0;
  // kNotFound "lti11_key.unknown". Launches and outcome calls with the key stop at once.
  virtual Status RemoveLti11Consumer(std::string_view consumer_key) = 0;
};

}  // namespace gb::lti
