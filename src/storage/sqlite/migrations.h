// Numbered schema migrations for the SQLite store. Internal to storage/sqlite.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"

namespace gb::storage::sqlite_internal {

class Connection;

struct Migration {
  // Positive and strictly increasing; never renumber or edit once released. A number may be
  // missing (taken by a migration on another branch): migrations are applied by set
  // membership, so the gap is filled whenever that migration arrives.
  int version;
  std::string_view description;  // recorded in schema_migrations
  const char* sql;               // one or more statements
};

// Every migration this build knows, in ascending order.
std::span<const Migration> Migrations();
// The highest version in Migrations().
int LatestSchemaVersion();

// Applies every migration of Migrations() not yet recorded in schema_migrations, lowest version
// first: each in its own IMMEDIATE transaction together with its schema_migrations row, so
// concurrent openers (the server and the CLI) apply each migration exactly once. Fails with
// kFailedPrecondition "storage.schema_too_new", changing nothing, when the database records a
// migration this build does not know (a newer build migrated it).
Status Migrate(Connection& conn);
// The same over an explicit list (ascending versions); for tests of the runner itself.
Status Migrate(Connection& conn, std::span<const Migration> migrations);

// MAX(version) from schema_migrations (0 for a database no migration touched).
Result<int> CurrentSchemaVersion(Connection& conn);

}  // namespace gb::storage::sqlite_internal
