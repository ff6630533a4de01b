// SqliteStore's PassbackKeyStore: the passback_keys table (migration 4).
#include <utility>

#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace gb::storage {

using sqlite_internal::Connection;
using sqlite_internal::IsUniqueViolation;
using sqlite_internal::OpKind;
using sqlite_internal::Statement;

namespace {

#define GB_PASSBACK_KEY_COLS "id, tenant_id, secret_hash, created_at"
constexpr const char kInsertPassbackKey[] =
    "INSERT INTO passback_keys (" GB_PASSBACK_KEY_COLS ") VALUES (?1, ?2, ?3, ?4)";
constexpr const char kPassbackKeyById[] = "SELECT " GB_PASSBACK_KEY_COLS " FROM passback_keys WHERE id = ?1";
constexpr const char kPassbackKeysByTenant[] =
    "SELECT " GB_PASSBACK_KEY_COLS " FROM passback_keys WHERE tenant_id = ?1 ORDER BY created_at, id";
constexpr const char kAllPassbackKeys[] =
    "SELECT " GB_PASSBACK_KEY_COLS " FROM passback_keys ORDER BY created_at, id";
constexpr const char kDeletePassbackKey[] = "DELETE FROM passback_keys WHERE id = ?1";
#undef GB_PASSBACK_KEY_COLS

Status PassbackKeyUnknown() {
  return Error(Code::kNotFound, "passback_key.unknown", "No such passback key.");
}

lti::PassbackKey PassbackKeyFromRow(const Statement& s) {
  lti::PassbackKey k;
  k.id = s.ColumnText(0);
  k.tenant_id = lti::TenantId(s.ColumnText(1));
  k.secret_hash = s.ColumnText(2);
  k.created_at = s.ColumnInt(3);
  return k;
}

Status ReadPassbackKeys(Statement& s, std::vector<lti::PassbackKey>& out) {
  for (;;) {
    int rc = s.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return sqlite_internal::SqliteStatus(s.db(), rc, "reading passback keys");
    out.push_back(PassbackKeyFromRow(s));
  }
}

}  // namespace

Status SqliteStore::AddPassbackKey(const lti::PassbackKey& key) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertPassbackKey));
    s.BindText(1, key.id);
    s.BindText(2, key.tenant_id.str());
    s.BindText(3, key.secret_hash);
    s.BindInt(4, key.created_at);
    int rc = s.Run();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (IsUniqueViolation(rc)) {
      return Error(Code::kConflict, "passback_key.exists", "A passback key with this id already exists.");
    }
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
      return Error(Code::kNotFound, "tenant.unknown", "The passback key's tenant does not exist.");
    }
    return c.Error(rc, "adding a passback key");
  });
}

Result<lti::PassbackKey> SqliteStore::FindPassbackKey(std::string_view id) {
  if (id.empty()) return PassbackKeyUnknown();
  std::vector<lti::PassbackKey> found;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kPassbackKeyById));
    s.BindText(1, id);
    return ReadPassbackKeys(s, found);
  }));
  if (found.empty()) return PassbackKeyUnknown();
  return std::move(found.front());
}

Result<std::vector<lti::PassbackKey>> SqliteStore::ListPassbackKeys(const std::optional<lti::TenantId>& tenant) {
  std::vector<lti::PassbackKey> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(tenant ? kPassbackKeysByTenant : kAllPassbackKeys));
    if (tenant) s.BindText(1, tenant->str());
    return ReadPassbackKeys(s, out);
  }));
  return out;
}

Status SqliteStore::RemovePassbackKey(std::string_view id) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kDeletePassbackKey));
    s.BindText(1, id);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "removing a passback key");
    if (sqlite3_changes(c.db()) == 0) return PassbackKeyUnknown();
    return Status::Ok();
  });
}

}  // namespace gb::storage
