#include "storage/sqlite/sqlite_store.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "storage/sqlite/migrations.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace gb::storage {

using sqlite_internal::Checkpointer;
using sqlite_internal::Connection;
using sqlite_internal::ConnectionOptions;
using sqlite_internal::IsUniqueViolation;
using sqlite_internal::OpKind;
using sqlite_internal::ReaderPool;
using sqlite_internal::Statement;
using sqlite_internal::Writer;

namespace {

// ---- SQL. Every statement is prepared once per connection and cached (keyed by address). ----

#define GB_TENANT_COLS "id, name, api_key_hash, created_at"
constexpr const char kInsertTenant[] =
    "INSERT INTO tenants (id, name, api_key_hash, created_at) VALUES (?1, ?2, ?3, ?4)";
constexpr const char kTenantByName[] = "SELECT " GB_TENANT_COLS " FROM tenants WHERE name = ?1";
constexpr const char kTenantById[] = "SELECT " GB_TENANT_COLS " FROM tenants WHERE id = ?1";
// The second term lets SQLite use the partial index tenants_by_api_key_hash.
constexpr const char kTenantByKey[] =
    "SELECT " GB_TENANT_COLS " FROM tenants WHERE api_key_hash = ?1 AND api_key_hash <> ''";
constexpr const char kListTenants[] = "SELECT " GB_TENANT_COLS " FROM tenants ORDER BY created_at, name";
#undef GB_TENANT_COLS

// Registrations are read with their deployments in one statement (one snapshot); rows of one
// registration are consecutive, deployments in their stored order.
#define GB_REGISTRATION_SELECT                                                                     \
  "SELECT r.id, r.tenant_id, r.issuer, r.client_id, r.auth_url, r.token_url, r.jwks_url,"         \
  " r.token_audience, r.family, r.target_url, r.created_at, r.service_hosts, r.final_grades_only," \
  " r.send_comments, r.allow_extra_credit, d.deployment_id"                                       \
  " FROM registrations r LEFT JOIN registration_deployments d ON d.registration_id = r.id "
#define GB_REGISTRATION_ORDER " ORDER BY r.created_at, r.id, d.position"
constexpr const char kRegistrationById[] = GB_REGISTRATION_SELECT "WHERE r.id = ?1" GB_REGISTRATION_ORDER;
constexpr const char kRegistrationByIssuerClient[] =
    GB_REGISTRATION_SELECT "WHERE r.issuer = ?1 AND r.client_id = ?2" GB_REGISTRATION_ORDER;
constexpr const char kRegistrationsByIssuer[] = GB_REGISTRATION_SELECT "WHERE r.issuer = ?1" GB_REGISTRATION_ORDER;
constexpr const char kRegistrationsByTenant[] = GB_REGISTRATION_SELECT "WHERE r.tenant_id = ?1" GB_REGISTRATION_ORDER;
constexpr const char kAllRegistrations[] = GB_REGISTRATION_SELECT GB_REGISTRATION_ORDER;
#undef GB_REGISTRATION_SELECT
#undef GB_REGISTRATION_ORDER
constexpr const char kInsertRegistration[] =
    "INSERT INTO registrations (id, tenant_id, issuer, client_id, auth_url, token_url, jwks_url,"
    " token_audience, family, target_url, created_at, service_hosts, final_grades_only, send_comments,"
    " allow_extra_credit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
constexpr const char kUpdateRegistration[] =
    "UPDATE registrations SET tenant_id = ?2, issuer = ?3, client_id = ?4, auth_url = ?5, token_url = ?6,"
    " jwks_url = ?7, token_audience = ?8, family = ?9, target_url = ?10, created_at = ?11, service_hosts = ?12,"
    " final_grades_only = ?13, send_comments = ?14, allow_extra_credit = ?15 WHERE id = ?1";
constexpr const char kDeleteRegistration[] = "DELETE FROM registrations WHERE id = ?1";
constexpr const char kInsertDeployment[] =
    "INSERT INTO registration_deployments (registration_id, position, deployment_id) VALUES (?1, ?2, ?3)";
constexpr const char kDeleteDeployments[] = "DELETE FROM registration_deployments WHERE registration_id = ?1";

constexpr const char kInsertNonce[] = "INSERT INTO nonces (scope, value, expires_at) VALUES (?1, ?2, ?3)";
// Purged in chunks, each its own write, so a large purge never holds the write lock for long.
constexpr int64_t kPurgeChunk = 1000;
constexpr const char kPurgeNonces[] =
    "DELETE FROM nonces WHERE (scope, value) IN"
    " (SELECT scope, value FROM nonces WHERE expires_at <= ?1 LIMIT ?2)";

constexpr const char kInsertKey[] =
    "INSERT INTO tool_keys (kid, sealed_private_key, public_jwk_json, created_at, retired_at, publish_until)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char kListKeys[] =
    "SELECT kid, sealed_private_key, public_jwk_json, created_at, retired_at, publish_until"
    " FROM tool_keys ORDER BY created_at DESC, seq DESC";
constexpr const char kRetireKey[] = "UPDATE tool_keys SET retired_at = ?2, publish_until = ?3 WHERE kid = ?1";

#define GB_LAUNCH_COLS "id, tenant_id, registration_id, launch_json, token_hash, created_at, token_expires_at"
constexpr const char kInsertLaunch[] =
    "INSERT INTO launches (" GB_LAUNCH_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char kLaunchById[] = "SELECT " GB_LAUNCH_COLS " FROM launches WHERE id = ?1";
// The redemption itself: one statement that marks the token used only if it is unused and
// unexpired, and returns the launch. Expired means now >= token_expires_at.
constexpr const char kRedeemLaunch[] =
    "UPDATE launches SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND token_expires_at > ?2"
    " RETURNING " GB_LAUNCH_COLS;
// Only to explain a failed redemption.
constexpr const char kLaunchTokenState[] = "SELECT used_at, token_expires_at FROM launches WHERE token_hash = ?1";
#undef GB_LAUNCH_COLS

constexpr const char kJournalModeWal[] = "PRAGMA journal_mode = WAL";

// ---- Errors ----

Status TenantUnknown() { return Error(Code::kNotFound, "tenant.unknown", "No such tenant."); }
Status RegistrationUnknown() { return Error(Code::kNotFound, "registration.unknown", "No such registration."); }
Status KeyUnknown() { return Error(Code::kNotFound, "key.unknown", "No signing key with this kid."); }
Status LaunchUnknown() { return Error(Code::kNotFound, "launch.unknown", "No such launch."); }
Status TokenUnknown() { return Error(Code::kNotFound, "launch_token.unknown", "No launch for this token."); }

// ---- Row mapping ----

lti::Tenant TenantFromRow(const Statement& s) {
  lti::Tenant t;
  t.id = lti::TenantId(s.ColumnText(0));
  t.name = s.ColumnText(1);
  t.api_key_hash = s.ColumnText(2);
  t.created_at = s.ColumnInt(3);
  return t;
}

// Reads a single tenant; kNotFound when the statement yields no row.
Status ReadOneTenant(Statement& s, lti::Tenant& out) {
  int rc = s.Step();
  if (rc == SQLITE_DONE) return TenantUnknown();
  if (rc != SQLITE_ROW) return sqlite_internal::SqliteStatus(s.db(), rc, "reading a tenant");
  out = TenantFromRow(s);
  return Status::Ok();
}

// registrations.service_hosts is a JSON array of strings (migration 3).
std::string ServiceHostsJson(const std::vector<std::string>& hosts) { return nlohmann::json(hosts).dump(); }

Status ParseServiceHosts(const lti::RegistrationId& id, const std::string& text, std::vector<std::string>& out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_array()) {
    out.clear();
    for (const auto& h : j) {
      if (!h.is_string()) break;
      out.push_back(h.get<std::string>());
    }
    if (out.size() == j.size()) return Status::Ok();
  }
  return Error(Code::kInternal, "storage.error",
               "registration " + id.str() + " has service_hosts that are not a JSON array of strings");
}

// Reads every registration the statement yields (see GB_REGISTRATION_SELECT).
Status ReadRegistrations(Statement& s, std::vector<lti::Registration>& out) {
  for (;;) {
    int rc = s.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return sqlite_internal::SqliteStatus(s.db(), rc, "reading registrations");
    std::string id = s.ColumnText(0);
    if (out.empty() || out.back().id.str() != id) {
      lti::Registration r;
      r.id = lti::RegistrationId(std::move(id));
      r.tenant_id = lti::TenantId(s.ColumnText(1));
      r.issuer = s.ColumnText(2);
      r.client_id = s.ColumnText(3);
      r.auth_url = s.ColumnText(4);
      r.token_url = s.ColumnText(5);
      r.jwks_url = s.ColumnText(6);
      r.token_audience = s.ColumnText(7);
      const std::string family = s.ColumnText(8);
      auto parsed = lti::ParseFamily(family);
      if (!parsed) {
        return Error(Code::kInternal, "storage.error",
                     "registration " + r.id.str() + " has an unknown platform family \"" + family + "\"");
      }
      r.family = *parsed;
      r.target_url = s.ColumnText(9);
      r.created_at = s.ColumnInt(10);
      GB_RETURN_IF_ERROR(ParseServiceHosts(r.id, s.ColumnText(11), r.service_hosts));
      r.final_grades_only = s.ColumnInt(12) != 0;
      r.send_comments = s.ColumnInt(13) != 0;
      r.allow_extra_credit = s.ColumnInt(14) != 0;
      out.push_back(std::move(r));
    }
    if (!s.ColumnIsNull(15)) out.back().deployment_ids.push_back(s.ColumnText(15));
  }
}

Status ReadOneRegistration(Statement& s, lti::Registration& out) {
  std::vector<lti::Registration> found;
  GB_RETURN_IF_ERROR(ReadRegistrations(s, found));
  if (found.empty()) return RegistrationUnknown();
  out = std::move(found.front());
  return Status::Ok();
}

void BindRegistration(Statement& s, const lti::Registration& r) {
  s.BindText(1, r.id.str());
  s.BindText(2, r.tenant_id.str());
  s.BindText(3, r.issuer);
  s.BindText(4, r.client_id);
  s.BindText(5, r.auth_url);
  s.BindText(6, r.token_url);
  s.BindText(7, r.jwks_url);
  s.BindText(8, r.token_audience);
  s.BindText(9, lti::FamilyName(r.family));
  s.BindText(10, r.target_url);
  s.BindInt(11, r.created_at);
  s.BindText(12, ServiceHostsJson(r.service_hosts));
  s.BindInt(13, r.final_grades_only ? 1 : 0);
  s.BindInt(14, r.send_comments ? 1 : 0);
  s.BindInt(15, r.allow_extra_credit ? 1 : 0);
}

// Maps the outcome of writing a registration row.
Status RegistrationWriteStatus(Connection& c, int rc, const lti::Registration& r) {
  if (rc == SQLITE_DONE) return Status::Ok();
  if (IsUniqueViolation(rc)) {
    return Error(Code::kConflict, "registration.exists",
                 "A registration with this id, or for issuer \"" + r.issuer + "\" and client_id \"" + r.client_id +
                     "\", already exists.");
  }
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return Error(Code::kNotFound, "tenant.unknown", "The registration's tenant does not exist.");
  }
  return c.Error(rc, "writing a registration");
}

Status InsertDeployments(Connection& c, const lti::Registration& r) {
  int64_t position = 0;
  for (const std::string& deployment : r.deployment_ids) {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertDeployment));
    s.BindText(1, r.id.str());
    s.BindInt(2, position++);
    s.BindText(3, deployment);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "writing a deployment id");
  }
  return Status::Ok();
}

lti::StoredKey KeyFromRow(const Statement& s) {
  lti::StoredKey k;
  k.kid = s.ColumnText(0);
  k.sealed_private_key = s.ColumnText(1);
  k.public_jwk_json = s.ColumnText(2);
  k.created_at = s.ColumnInt(3);
  k.retired_at = s.ColumnInt(4);
  k.publish_until = s.ColumnInt(5);
  return k;
}

lti::StoredLaunch LaunchFromRow(const Statement& s) {
  lti::StoredLaunch l;
  l.id = s.ColumnText(0);
  l.tenant_id = lti::TenantId(s.ColumnText(1));
  l.registration_id = lti::RegistrationId(s.ColumnText(2));
  l.launch_json = s.ColumnText(3);
  l.token_hash = s.ColumnText(4);  // NULL -> ""
  l.created_at = s.ColumnInt(5);
  l.token_expires_at = s.ColumnInt(6);
  return l;
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

int SqliteStore::LatestSchemaVersion() { return sqlite_internal::LatestSchemaVersion(); }

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, SqliteOptions options) {
  if (path.empty()) {
    return Error(Code::kInvalidArgument, "storage.bad_path", "The SQLite database path is empty.");
  }
  ConnectionOptions writer_options;
  writer_options.create = true;
  writer_options.synchronous_full = options.synchronous == SqliteOptions::Synchronous::kFull;
  writer_options.busy_timeout_ms = options.busy_timeout_ms;
  GB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path, writer_options));

  {
    GB_ASSIGN_OR_RETURN(Statement s, conn->Prepare(kJournalModeWal));
    int rc = s.Step();
    if (rc != SQLITE_ROW) return conn->Error(rc, "switching to WAL");
    const std::string mode = s.ColumnText(0);
    if (mode != "wal" && !(conn->in_memory() && mode == "memory")) {
      return Error(Code::kInternal, "storage.error",
                   "The database could not be switched to WAL mode (journal_mode is \"" + mode +
                       "\"); is it on a network file system?");
    }
  }
  // After a checkpoint, a WAL grown by a burst is cut back to this size.
  GB_RETURN_IF_ERROR(conn->ExecScript("PRAGMA journal_size_limit = 67108864", "setting journal_size_limit"));
  GB_RETURN_IF_ERROR(sqlite_internal::Migrate(*conn));

  auto impl = std::make_unique<Impl>();
  const bool in_memory = conn->in_memory();
  impl->writer = std::make_unique<Writer>(std::move(conn), options.max_batch);
  if (!in_memory && options.max_read_connections > 0) {
    ConnectionOptions reader_options;
    reader_options.read_only = true;
    reader_options.busy_timeout_ms = options.busy_timeout_ms;
    impl->readers = std::make_unique<ReaderPool>(path, reader_options, options.max_read_connections);
  }
  if (!in_memory && options.checkpoint_pages > 0) {
    ConnectionOptions checkpoint_options;
    checkpoint_options.busy_timeout_ms = options.busy_timeout_ms;
    checkpoint_options.synchronous_full = writer_options.synchronous_full;
    GB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpoint_conn, Connection::Open(path, checkpoint_options));
    impl->checkpointer = std::make_unique<Checkpointer>(std::move(checkpoint_conn), *impl->writer,
                                                        options.checkpoint_pages, 20 * options.checkpoint_pages);
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

SqliteStats SqliteStore::Stats() const {
  SqliteStats stats;
  stats.write_transactions = impl_->writer->batches();
  stats.write_operations = impl_->writer->operations();
  return stats;
}

Result<int> SqliteStore::SchemaVersion() {
  int version = 0;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(version, sqlite_internal::CurrentSchemaVersion(c));
    return Status::Ok();
  }));
  return version;
}

// ---- TenantStore ----

Status SqliteStore::AddTenant(const lti::Tenant& tenant) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertTenant));
    s.BindText(1, tenant.id.str());
    s.BindText(2, tenant.name);
    s.BindText(3, tenant.api_key_hash);
    s.BindInt(4, tenant.created_at);
    int rc = s.Run();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (IsUniqueViolation(rc)) {
      return Error(Code::kConflict, "tenant.exists",
                   "A tenant named \"" + tenant.name + "\" (or with this id or API key) already exists.");
    }
    return c.Error(rc, "adding a tenant");
  });
}

Result<lti::Tenant> SqliteStore::FindTenantByName(std::string_view name) {
  lti::Tenant out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kTenantByName));
    s.BindText(1, name);
    return ReadOneTenant(s, out);
  }));
  return out;
}

Result<lti::Tenant> SqliteStore::FindTenantById(const lti::TenantId& id) {
  lti::Tenant out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kTenantById));
    s.BindText(1, id.str());
    return ReadOneTenant(s, out);
  }));
  return out;
}

Result<lti::Tenant> SqliteStore::FindTenantByApiKeyHash(std::string_view api_key_hash) {
  // A tenant without a key has api_key_hash ""; an empty hash must never find it.
  if (api_key_hash.empty()) return TenantUnknown();
  lti::Tenant out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kTenantByKey));
    s.BindText(1, api_key_hash);
    return ReadOneTenant(s, out);
  }));
  return out;
}

Result<std::vector<lti::Tenant>> SqliteStore::ListTenants() {
  std::vector<lti::Tenant> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kListTenants));
    for (;;) {
      int rc = s.Step();
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return c.Error(rc, "listing tenants");
      out.push_back(TenantFromRow(s));
    }
  }));
  return out;
}

// ---- RegistrationStore ----

Status SqliteStore::AddRegistration(const lti::Registration& registration) {
  return impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertRegistration));
      BindRegistration(s, registration);
      GB_RETURN_IF_ERROR(RegistrationWriteStatus(c, s.Run(), registration));
    }
    return InsertDeployments(c, registration);
  });
}

Status SqliteStore::UpdateRegistration(const lti::Registration& registration) {
  return impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kUpdateRegistration));
      BindRegistration(s, registration);
      GB_RETURN_IF_ERROR(RegistrationWriteStatus(c, s.Run(), registration));
      if (sqlite3_changes(c.db()) == 0) return RegistrationUnknown();
    }
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kDeleteDeployments));
      s.BindText(1, registration.id.str());
      int rc = s.Run();
      if (rc != SQLITE_DONE) return c.Error(rc, "replacing deployment ids");
    }
    return InsertDeployments(c, registration);
  });
}

Result<lti::Registration> SqliteStore::GetRegistration(const lti::RegistrationId& id) {
  lti::Registration out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRegistrationById));
    s.BindText(1, id.str());
    return ReadOneRegistration(s, out);
  }));
  return out;
}

Result<lti::Registration> SqliteStore::FindRegistration(std::string_view issuer, std::string_view client_id) {
  lti::Registration out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRegistrationByIssuerClient));
    s.BindText(1, issuer);
    s.BindText(2, client_id);
    return ReadOneRegistration(s, out);
  }));
  return out;
}

Result<std::vector<lti::Registration>> SqliteStore::FindRegistrationsByIssuer(std::string_view issuer) {
  // An unknown issuer yields an empty list, not an error (OidcLogin tells "unknown issuer" from
  // "unknown client_id" by it).
  std::vector<lti::Registration> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRegistrationsByIssuer));
    s.BindText(1, issuer);
    return ReadRegistrations(s, out);
  }));
  return out;
}

Result<std::vector<lti::Registration>> SqliteStore::ListRegistrations(const std::optional<lti::TenantId>& tenant) {
  std::vector<lti::Registration> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(tenant ? kRegistrationsByTenant : kAllRegistrations));
    if (tenant) s.BindText(1, tenant->str());
    return ReadRegistrations(s, out);
  }));
  return out;
}

Status SqliteStore::RemoveRegistration(const lti::RegistrationId& id) {
  // One statement: the deployment rows go with it (ON DELETE CASCADE).
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kDeleteRegistration));
    s.BindText(1, id.str());
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "removing a registration");
    if (sqlite3_changes(c.db()) == 0) return RegistrationUnknown();
    return Status::Ok();
  });
}

// ---- NonceStore ----

Status SqliteStore::ConsumeNonce(std::string_view scope, std::string_view value, int64_t expires_at) {
  // One INSERT: the primary key decides, atomically and across processes, who used it first.
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertNonce));
    s.BindText(1, scope);
    s.BindText(2, value);
    s.BindInt(3, expires_at);
    int rc = s.Run();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (IsUniqueViolation(rc)) return Error(Code::kConflict, "nonce.replayed", "This value was already used.");
    return c.Error(rc, "consuming a nonce");
  });
}

Result<int64_t> SqliteStore::PurgeExpiredNonces(int64_t now) {
  int64_t total = 0;
  for (;;) {
    int64_t deleted = 0;
    GB_RETURN_IF_ERROR(impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kPurgeNonces));
      s.BindInt(1, now);
      s.BindInt(2, kPurgeChunk);
      int rc = s.Run();
      if (rc != SQLITE_DONE) return c.Error(rc, "purging nonces");
      deleted = sqlite3_changes64(c.db());
      return Status::Ok();
    }));
    total += deleted;
    if (deleted < kPurgeChunk) return total;
  }
}

// ---- KeyStore ----

Status SqliteStore::AddKey(const lti::StoredKey& key) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertKey));
    s.BindText(1, key.kid);
    s.BindBlob(2, key.sealed_private_key);
    s.BindText(3, key.public_jwk_json);
    s.BindInt(4, key.created_at);
    s.BindInt(5, key.retired_at);
    s.BindInt(6, key.publish_until);
    int rc = s.Run();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (IsUniqueViolation(rc)) {
      return Error(Code::kConflict, "key.exists", "A signing key with kid \"" + key.kid + "\" already exists.");
    }
    return c.Error(rc, "adding a signing key");
  });
}

Result<std::vector<lti::StoredKey>> SqliteStore::ListKeys() {
  std::vector<lti::StoredKey> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kListKeys));
    for (;;) {
      int rc = s.Step();
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return c.Error(rc, "listing signing keys");
      out.push_back(KeyFromRow(s));
    }
  }));
  return out;
}

Status SqliteStore::RetireKey(std::string_view kid, int64_t retired_at, int64_t publish_until) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRetireKey));
    s.BindText(1, kid);
    s.BindInt(2, retired_at);
    s.BindInt(3, publish_until);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "retiring a signing key");
    if (sqlite3_changes(c.db()) == 0) return KeyUnknown();
    return Status::Ok();
  });
}

// ---- LaunchStore ----

Status SqliteStore::SaveLaunch(const lti::StoredLaunch& launch) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertLaunch));
    s.BindText(1, launch.id);
    s.BindText(2, launch.tenant_id.str());
    s.BindText(3, launch.registration_id.str());
    s.BindText(4, launch.launch_json);
    s.BindTextOrNull(5, launch.token_hash);
    s.BindInt(6, launch.created_at);
    s.BindInt(7, launch.token_expires_at);
    int rc = s.Run();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (IsUniqueViolation(rc)) {
      return Error(Code::kConflict, "launch.exists", "A launch with this id or token already exists.");
    }
    return c.Error(rc, "saving a launch");
  });
}

Result<lti::StoredLaunch> SqliteStore::RedeemLaunchToken(std::string_view token_hash, int64_t now) {
  if (token_hash.empty()) return TokenUnknown();
  lti::StoredLaunch out;
  GB_RETURN_IF_ERROR(impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRedeemLaunch));
      s.BindText(1, token_hash);
      s.BindInt(2, now);
      int rc = s.Step();
      if (rc == SQLITE_ROW) {
        out = LaunchFromRow(s);
        rc = s.Run();  // finish the statement (RETURNING yields at most one row here)
        if (rc != SQLITE_DONE) return c.Error(rc, "redeeming a launch token");
        return Status::Ok();
      }
      if (rc != SQLITE_DONE) return c.Error(rc, "redeeming a launch token");
    }
    // Nothing was marked: find out why, for the error only (the verdict is already final).
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kLaunchTokenState));
    s.BindText(1, token_hash);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return TokenUnknown();
    if (rc != SQLITE_ROW) return c.Error(rc, "redeeming a launch token");
    if (!s.ColumnIsNull(0)) {
      return Error(Code::kConflict, "launch_token.used", "This launch token was already redeemed.");
    }
    if (now >= s.ColumnInt(1)) {
      return Error(Code::kUnauthenticated, "launch_token.expired", "This launch token has expired.");
    }
    return TokenUnknown();  // the row appeared only after the update looked
  }));
  return out;
}

Result<lti::StoredLaunch> SqliteStore::GetLaunch(std::string_view id) {
  lti::StoredLaunch out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kLaunchById));
    s.BindText(1, id);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return LaunchUnknown();
    if (rc != SQLITE_ROW) return c.Error(rc, "reading a launch");
    out = LaunchFromRow(s);
    return Status::Ok();
  }));
  return out;
}

}  // namespace gb::storage
