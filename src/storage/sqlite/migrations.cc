#include "storage/sqlite/migrations.h"

#include <set>
#include <string>

#include "storage/sqlite/sqlite_db.h"

namespace gb::storage::sqlite_internal {
namespace {

// Conventions for every migration:
//   - STRICT tables (column types enforced); times are INTEGER unix seconds named *_at;
//   - ids are TEXT (the application's own ids), foreign keys declared, foreign_keys=ON at open;
//   - secrets are never stored in the clear (api_key_hash, token_hash, sealed_private_key);
//   - a later migration adds tables and indexes (score queue, audit log, roster cache) or columns
//     with defaults; it never rewrites an earlier one. registrations(id) and tenants(id) are the
//     anchors later tables reference.
constexpr Migration kMigrations[] = {
    {1, "tenants, registrations, deployments, nonces, tool keys, launches", R"sql(
CREATE TABLE tenants (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  api_key_hash TEXT NOT NULL,        -- hex SHA-256; '' when the tenant has no key
  created_at   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX tenants_by_api_key_hash ON tenants(api_key_hash) WHERE api_key_hash <> '';

CREATE TABLE registrations (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL REFERENCES tenants(id),
  issuer         TEXT NOT NULL,
  client_id      TEXT NOT NULL,
  auth_url       TEXT NOT NULL,
  token_url      TEXT NOT NULL,
  jwks_url       TEXT NOT NULL,
  token_audience TEXT NOT NULL,
  family         TEXT NOT NULL,      -- lti::FamilyName
  target_url     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  UNIQUE (issuer, client_id)
) STRICT;
CREATE INDEX registrations_by_tenant ON registrations(tenant_id);

-- Deployment ids of a registration, in the order given.
CREATE TABLE registration_deployments (
  registration_id TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
  position        INTEGER NOT NULL,
  deployment_id   TEXT NOT NULL,
  PRIMARY KEY (registration_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX registration_deployments_by_deployment ON registration_deployments(deployment_id);

-- Single-use values; a row exists from first use until purged after expires_at.
CREATE TABLE nonces (
  scope      TEXT NOT NULL,
  value      TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, value)
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces(expires_at);

-- The tool's signing keys. seq orders keys created in the same second (newest first).
CREATE TABLE tool_keys (
  seq                INTEGER PRIMARY KEY,
  kid                TEXT NOT NULL UNIQUE,
  sealed_private_key BLOB NOT NULL,
  public_jwk_json    TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  retired_at         INTEGER NOT NULL DEFAULT 0,
  publish_until      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Launch hand-off records. No foreign keys: a launch is history and must neither block nor
-- vanish with its registration, and the hot path stays at one insert.
CREATE TABLE launches (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  registration_id  TEXT NOT NULL,
  launch_json      TEXT NOT NULL,
  token_hash       TEXT UNIQUE,      -- NULL when the launch has no hand-off token
  created_at       INTEGER NOT NULL,
  token_expires_at INTEGER NOT NULL,
  used_at          INTEGER           -- NULL until the token is redeemed
) STRICT;
CREATE INDEX launches_by_created ON launches(created_at);  -- for purging old launches
)sql"},
    {2, "score queue and hash-chained audit log", R"sql(
-- The durable score queue (passback/queue_store.h). Times here are unix milliseconds (*_ms):
-- AGS timestamps carry milliseconds and retries are scheduled below a second.
CREATE TABLE scores (
  id                 TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL,
  registration_id    TEXT NOT NULL,
  idempotency_key    TEXT NOT NULL,
  coalescing_key     TEXT NOT NULL,   -- registration | line item (or resource link) | user
  platform_host      TEXT NOT NULL,   -- where it will be delivered; for per-host counts
  context_id         TEXT NOT NULL,
  resource_link_id   TEXT NOT NULL,
  lineitem_url       TEXT NOT NULL,
  lineitems_url      TEXT NOT NULL,
  user_id            TEXT NOT NULL,
  launch_id          TEXT NOT NULL,
  score_given        REAL,
  score_maximum      REAL,
  activity_progress  TEXT NOT NULL,
  grading_progress   TEXT NOT NULL,
  comment            TEXT NOT NULL,
  graded_by_kind     TEXT NOT NULL,
  graded_by_id       TEXT NOT NULL,
  graded_by_model    TEXT NOT NULL,
  timestamp_ms       INTEGER NOT NULL,  -- grading time, fixed at acceptance
  state              TEXT NOT NULL,     -- queued | delivering | delivered | superseded | failed
  attempts           INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  lease_owner        TEXT NOT NULL,
  lease_until_ms     INTEGER NOT NULL,
  last_http_status   INTEGER NOT NULL,
  last_response      TEXT NOT NULL,
  diagnosis          TEXT NOT NULL,
  superseded_by      TEXT NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  delivered_at_ms    INTEGER NOT NULL,
  UNIQUE (tenant_id, idempotency_key)
) STRICT;
CREATE INDEX scores_due ON scores(state, next_attempt_at_ms);
CREATE INDEX scores_by_key ON scores(coalescing_key, state, timestamp_ms);

-- Append-only; each row's hash covers its content and the previous row's hash.
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY,
  at_ms      INTEGER NOT NULL,
  tenant_id  TEXT NOT NULL,
  score_id   TEXT NOT NULL,
  event      TEXT NOT NULL,
  actor      TEXT NOT NULL,
  detail     TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
) STRICT;
)sql"},
    {3, "registration service hosts and passback policy", R"sql(
-- Extra hosts AGS/NRPS URLs may be on: a JSON array of "host" or "host:port" strings.
ALTER TABLE registrations ADD COLUMN service_hosts TEXT NOT NULL DEFAULT '[]';
-- Passback policy flags (0/1), off for every existing registration.
ALTER TABLE registrations ADD COLUMN final_grades_only INTEGER NOT NULL DEFAULT 0
  CHECK (final_grades_only IN (0, 1));
ALTER TABLE registrations ADD COLUMN send_comments INTEGER NOT NULL DEFAULT 0 CHECK (send_comments IN (0, 1));
ALTER TABLE registrations ADD COLUMN allow_extra_credit INTEGER NOT NULL DEFAULT 0
  CHECK (allow_extra_credit IN (0, 1));
)sql"},
    {4, "passback-only keys for POST /lti/grade_passback", R"sql(
-- Learnosity-style "LTI keys": HTTP Basic credentials that authenticate grade passback and
-- nothing else. The secret is stored only as its hex SHA-256, like tenants.api_key_hash.
CREATE TABLE passback_keys (
  id          TEXT PRIMARY KEY,   -- the public half, the Basic auth user name
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  secret_hash TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX passback_keys_by_tenant ON passback_keys(tenant_id);
)sql"},
    {5, "roster cache: NRPS members and per-context sync state", R"sql(
-- Per (registration, context) sync state: where the roster was read from and the platform's
-- opaque rel="differences" link for the next incremental sync. Removed with the registration.
CREATE TABLE roster_contexts (
  registration_id   TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
  context_id        TEXT NOT NULL,
  memberships_url   TEXT NOT NULL,
  differences_url   TEXT NOT NULL DEFAULT '',
  last_full_sync_at INTEGER NOT NULL DEFAULT 0,
  last_sync_at      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (registration_id, context_id)
) STRICT, WITHOUT ROWID;

-- The member cache. roles: canonical role URIs separated by single spaces (URIs hold none).
-- Personal fields are NULL when the platform did not send them.
CREATE TABLE roster_members (
  registration_id      TEXT NOT NULL,
  context_id           TEXT NOT NULL,
  user_id              TEXT NOT NULL,
  status               TEXT NOT NULL CHECK (status IN ('Active', 'Inactive', 'Deleted')),
  roles                TEXT NOT NULL,
  name                 TEXT,
  given_name           TEXT,
  family_name          TEXT,
  middle_name          TEXT,
  email                TEXT,
  picture              TEXT,
  lis_person_sourcedid TEXT,
  lti11_legacy_user_id TEXT,
  updated_at           INTEGER NOT NULL,
  PRIMARY KEY (registration_id, context_id, user_id),
  FOREIGN KEY (registration_id, context_id) REFERENCES roster_contexts(registration_id, context_id)
    ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- No index on launches for LatestLaunchMembershipsUrl: it walks launches_by_created newest
-- first and stops at the context's latest launch; an index would cost every launch a page write.
)sql"},
    {6, "LTI 1.1 consumer keys; Basic Outcomes target on scores", R"sql(
-- OAuth 1.0a consumer credentials. The secret is needed to sign outcome calls, so it cannot be
-- a hash: it is sealed with the data key (AES-256-GCM, aad "lti11:" || consumer_key).
CREATE TABLE lti11_consumers (
  consumer_key    TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(id),
  registration_id TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
  sealed_secret   BLOB NOT NULL,
  created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX lti11_consumers_by_tenant ON lti11_consumers(tenant_id);
CREATE INDEX lti11_consumers_by_registration ON lti11_consumers(registration_id);

-- A score for an LTI 1.1 launch targets a Basic Outcomes cell: lineitem_url holds the
-- lis_outcome_service_url and this column the lis_result_sourcedid ('' for AGS scores).
ALTER TABLE scores ADD COLUMN result_sourcedid TEXT NOT NULL DEFAULT '';
)sql"},
};

constexpr bool StrictlyIncreasing() {
  for (size_t i = 1; i < std::size(kMigrations); ++i) {
    if (kMigrations[i].version <= kMigrations[i - 1].version) return false;
  }
  return kMigrations[0].version >= 1;
}
static_assert(StrictlyIncreasing(), "migration versions must be positive and strictly increasing");

constexpr const char kCreateMigrationsTable[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
) STRICT)sql";
constexpr const char kSelectVersion[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr const char kSelectApplied[] = "SELECT version FROM schema_migrations ORDER BY version";
constexpr const char kInsertMigration[] =
    "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, unixepoch())";

Result<int> ReadVersion(Connection& conn) {
  GB_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(kSelectVersion));
  int rc = stmt.Step();
  if (rc != SQLITE_ROW) return conn.Error(rc, "reading the schema version");
  return static_cast<int>(stmt.ColumnInt(0));
}

Result<std::set<int>> ReadApplied(Connection& conn) {
  GB_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(kSelectApplied));
  std::set<int> applied;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return applied;
    if (rc != SQLITE_ROW) return conn.Error(rc, "reading the applied migrations");
    applied.insert(static_cast<int>(stmt.ColumnInt(0)));
  }
}

Status TooNew(int found, std::span<const Migration> known) {
  const int latest = known.empty() ? 0 : known.back().version;
  return Error(Code::kFailedPrecondition, "storage.schema_too_new",
               "The database has schema migration " + std::to_string(found) +
                   ", which this build (migrations up to " + std::to_string(latest) +
                   ") does not know; upgrade gradebridge before using this database.");
}

// One step: applies the lowest-numbered known migration the database has not recorded, if any.
// Versions are compared as a set, not against MAX(version): a migration numbered below one
// already applied (two branches each took a number, and the higher one shipped first) is still
// applied. `applied` tells whether a migration ran.
Status Step(Connection& conn, std::span<const Migration> known, bool& applied) {
  applied = false;
  GB_RETURN_IF_ERROR(conn.ExecScript("BEGIN IMMEDIATE", "starting a migration"));
  auto rollback = [&](Status st) {
    (void)conn.ExecScript("ROLLBACK", "rolling back a migration");
    return st;
  };
  Status st = conn.ExecScript(kCreateMigrationsTable, "creating schema_migrations");
  if (!st.ok()) return rollback(st);
  auto recorded = ReadApplied(conn);
  if (!recorded.ok()) return rollback(recorded.status());
  // A recorded migration this build lacks means a newer (or a diverged) build wrote the schema.
  for (int v : *recorded) {
    bool is_known = false;
    for (const Migration& m : known) is_known = is_known || m.version == v;
    if (!is_known) return rollback(TooNew(v, known));
  }
  const Migration* next = nullptr;
  for (const Migration& m : known) {
    if (!recorded->contains(m.version)) {
      next = &m;
      break;
    }
  }
  if (!next) {
    st = conn.ExecScript("COMMIT", "finishing migrations");
    if (!st.ok()) return rollback(st);
    return Status::Ok();
  }
  const std::string context = "applying migration " + std::to_string(next->version) + " (" +
                              std::string(next->description) + ")";
  st = conn.ExecScript(next->sql, context);
  if (!st.ok()) return rollback(st);
  {
    auto insert = conn.Prepare(kInsertMigration);
    if (!insert.ok()) return rollback(insert.status());
    insert->BindInt(1, next->version);
    insert->BindText(2, next->description);
    int rc = insert->Run();
    if (rc != SQLITE_DONE) return rollback(conn.Error(rc, context));
  }
  st = conn.ExecScript("COMMIT", context);
  if (!st.ok()) return rollback(st);
  applied = true;
  return Status::Ok();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Status Migrate(Connection& conn) { return Migrate(conn, Migrations()); }

Status Migrate(Connection& conn, std::span<const Migration> migrations) {
  for (;;) {
    bool applied = false;
    GB_RETURN_IF_ERROR(Step(conn, migrations, applied));
    if (!applied) return Status::Ok();
  }
}

Result<int> CurrentSchemaVersion(Connection& conn) {
  // schema_migrations exists once Migrate ran on any connection to this database.
  return ReadVersion(conn);
}

}  // namespace gb::storage::sqlite_internal
