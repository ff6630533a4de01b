// Admin operations shared by the CLI and the demo: tenants, registrations and keys, against the
// same database a server uses (SQLite locking makes concurrent use safe).
#pragma once

#include <optional>
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
  std::vector<std::string> service_hosts;
  bool final_grades_only = false;
  bool send_comments = false;
  bool allow_extra_credit = false;
};
// Validates every field (URLs https unless dev_mode; issuer without query/fragment; service hosts
// per lti::ValidateServiceHost, duplicates dropped) and stores it.
Result<lti::Registration> AddRegistration(SqliteStore& store, const RegistrationInput& in, bool dev_mode);

// What `registration update` changes; members left unset (nullopt, empty lists) keep the stored
// value.
struct RegistrationChanges {
  std::optional<std::string> target_url;      // "" = back to the built-in landing page
  std::optional<std::string> token_audience;  // "" = back to the family default
  // Replaces the whole list; cannot be combined with add/remove.
  std::optional<std::vector<std::string>> service_hosts;
  std::vector<std::string> add_service_hosts;     // already present: no change
  std::vector<std::string> remove_service_hosts;  // each must be present
  // Blackboard and Canvas add a deployment per institution or per install under one client_id.
  std::vector<std::string> add_deployment_ids;     // already present: no change
  std::vector<std::string> remove_deployment_ids;  // each must be present; at least one must stay
  std::optional<bool> final_grades_only, send_comments, allow_extra_credit;

  bool Empty() const;
};
// Reads the registration, applies `changes`, validates as AddRegistration does and writes it back
// whole. kNotFound "registration.unknown"; kInvalidArgument for bad values, for no change at all
// ("registration.nothing_to_update"), for combining service_hosts with add/remove, and for
// removing a host the registration does not have ("registration.unknown_service_host"), and for
// removing a deployment it does not have ("registration.unknown_deployment") or its last one
// ("registration.no_deployment").
// Concurrent updates of one registration are last-writer-wins.
Result<lti::Registration> UpdateRegistration(SqliteStore& store, const lti::RegistrationId& id,
                                             const RegistrationChanges& changes, bool dev_mode);

}  // namespace gb::app
