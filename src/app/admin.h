// Admin operations shared by the CLI and the demo: tenants, registrations and keys, against the
// same database a server uses (SQLite locking makes concurrent use safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lti/registration.h"
#include "storage/sqlite/sqlite_store.h"

namespace gb::app {

using storage::SqliteStore;

struct NewTenant {
  lti::Tenant tenant;
  std::string api_key;  // shown once, never stored
};

// Tenant names: 1–64 of [a-z0-9._-].
Result<NewTenant> AddTenant(SqliteStore& store, const std::string& name);

// The stored form of a tenant API key or a passback secret: hex SHA-256. Both are random
// 256-bit tokens we generate, so a fast unsalted hash is enough (nothing to brute-force) and
// lets a request be checked with one lookup.
std::string HashSecret(std::string_view secret);

struct NewPassbackKey {
  lti::PassbackKey key;
  std::string secret;  // shown once, never stored
};
// Creates a passback-only key pair for the tenant named `tenant_name` (kNotFound
// "tenant.unknown"). It authenticates POST /lti/grade_passback and nothing else.
Result<NewPassbackKey> AddPassbackKey(SqliteStore& store, const std::string& tenant_name);

struct RegistrationInput {
  std::string tenant, issuer, client_id, auth_url, token_url, jwks_url, family = "generic", target_url,
      token_audience;
  std::vector<std::string> deployment_ids;
};
// Validates every field (URLs https unless dev_mode; issuer without query/fragment) and stores it.
Result<lti::Registration> AddRegistration(SqliteStore& store, const RegistrationInput& in, bool dev_mode);

}  // namespace gb::app
