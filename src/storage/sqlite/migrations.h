// Numbered schema migrations for the SQLite store. Internal to storage/sqlite.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"

namespace gb::storage::sqlite_internal {

class Connection;

struct Migration {
  int version;                   // 1, 2, 3, ... without gaps; never renumber or edit once released
  std::string_view description;  // recorded in schema_migrations
  const char* sql;               // one or more statements
};

// Every migration this build knows, in order.
std::span<const Migration> Migrations();
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion(): each pending migration runs in its own
// IMMEDIATE transaction together with its schema_migrations row, so concurrent openers (the
// server and the CLI) apply each migration exactly once. Fails with kFailedPrecondition
// "storage.schema_too_new" when the database was migrated by a newer build.
Status Migrate(Connection& conn);

// MAX(version) from schema_migrations (0 for a database no migration touched).
Result<int> CurrentSchemaVersion(Connection& conn);

}  // namespace gb::storage::sqlite_internal
