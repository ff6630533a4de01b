// SqliteStore's Lti11ConsumerStore: the lti11_consumers table (migration 6).
#include <utility>

#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace gb::storage {

using sqlite_internal::Connection;
using sqlite_internal::IsUniqueViolation;
using sqlite_internal::OpKind;
using sqlite_internal::Statement;

namespace {

#define GB_LTI11_COLS "consumer_key, tenant_id, registration_id, sealed_secret, created_at"
constexpr const char kInsert[] = "INSERT INTO lti11_consumers (" GB_LTI11_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char kByKey[] = "SELECT " GB_LTI11_COLS " FROM lti11_consumers WHERE consumer_key = ?1";
constexpr const char kByTenant[] =
    "SELECT " GB_LTI11_COLS " FROM lti11_consumers WHERE tenant_id = ?1 ORDER BY created_at, consumer_key";
constexpr const char kAll[] = "SELECT " GB_LTI11_COLS " FROM lti11_consumers ORDER BY created_at, consumer_key";
constexpr const char kDelete[] = "DELETE FROM lti11_consumers WHERE consumer_key = ?1";
#undef GB_LTI11_COLS

Status Unknown() { return Error(Code::kNotFound, "lti11_key.unknown", "No such LTI 1.1 consumer key."); }

Status ReadAll(Statement& s, std::vector<lti::Lti11Consumer>& out) {
  for (;;) {
    int rc = s.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return sqlite_internal::SqliteStatus(s.db(), rc, "reading LTI 1.1 consumer keys");
    lti::Lti11Consumer k;
    k.consumer_key = s.ColumnText(0);
    k.tenant_id = lti::TenantId(s.ColumnText(1));
    k.registration_id = lti::RegistrationId(s.ColumnText(2));
    k.sealed_secret = s.ColumnText(3);
    k.created_at = s.ColumnInt(4);
    out.push_back(std::move(k));
  }
}

}  // namespace

Status SqliteStore::AddLti11Consumer(const lti::Lti11Consumer& k) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsert));
    s.BindText(1, k.consumer_key);
    s.BindText(2, k.tenant_id.str());
    s.BindText(3, k.registration_id.str());
    s.BindBlob(4, k.sealed_secret);
    s.BindInt(5, k.created_at);
    int rc = s.Run();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (IsUniqueViolation(rc)) {
      return Error(Code::kConflict, "lti11_key.exists", "An LTI 1.1 consumer key with this name already exists.");
    }
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
      return Error(Code::kNotFound, "lti11_key.bad_owner", "The key's tenant or registration does not exist.");
    }
    return c.Error(rc, "adding an LTI 1.1 consumer key");
  });
}

Result<lti::Lti11Consumer> SqliteStore::FindLti11Consumer(std::string_view consumer_key) {
  if (consumer_key.empty()) return Unknown();
  std::vector<lti::Lti11Consumer> found;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kByKey));
    s.BindText(1, consumer_key);
    return ReadAll(s, found);
  }));
  if (found.empty()) return Unknown();
  return std::move(found.front());
}

Result<std::vector<lti::Lti11Consumer>> SqliteStore::ListLti11Consumers(const std::optional<lti::TenantId>& tenant) {
  std::vector<lti::Lti11Consumer> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(tenant ? kByTenant : kAll));
    if (tenant) s.BindText(1, tenant->str());
    return ReadAll(s, out);
  }));
  return out;
}

Status SqliteStore::RemoveLti11Consumer(std::string_view consumer_key) {
  return impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kDelete));
    s.BindText(1, consumer_key);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "removing an LTI 1.1 consumer key");
    if (sqlite3_changes(c.db()) == 0) return Unknown();
    return Status::Ok();
  });
}

}  // namespace gb::storage
