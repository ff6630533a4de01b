// SqliteStore's MemberStore: the roster_contexts and roster_members tables (migration 5).
#include <utility>

#include "base/strings.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace gb::storage {

using sqlite_internal::Connection;
using sqlite_internal::OpKind;
using sqlite_internal::Statement;

namespace {

constexpr const char kUpsertContext[] =
    "INSERT INTO roster_contexts (registration_id, context_id, memberships_url, differences_url, "
    "last_full_sync_at, last_sync_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (registration_id, context_id) DO UPDATE SET memberships_url = excluded.memberships_url, "
    "differences_url = excluded.differences_url, last_full_sync_at = excluded.last_full_sync_at, "
    "last_sync_at = excluded.last_sync_at";
constexpr const char kMarkAllDeleted[] =
    "UPDATE roster_members SET status = 'Deleted', updated_at = ?3 "
    "WHERE registration_id = ?1 AND context_id = ?2 AND status <> 'Deleted'";
#define GB_MEMBER_COLS                                                                                        \
  "user_id, status, roles, name, given_name, family_name, middle_name, email, picture, lis_person_sourcedid, " \
  "lti11_legacy_user_id, updated_at"
constexpr const char kUpsertMember[] =
    "INSERT OR REPLACE INTO roster_members (registration_id, context_id, " GB_MEMBER_COLS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
constexpr const char kMembersAll[] =
    "SELECT " GB_MEMBER_COLS " FROM roster_members WHERE registration_id = ?1 AND context_id = ?2 "
    "AND (?3 = '' OR status = ?3) AND (?4 = '' OR instr(' ' || roles || ' ', ' ' || ?4 || ' ') > 0) "
    "AND (?6 = 0 OR status <> 'Deleted') ORDER BY user_id LIMIT ?5";
constexpr const char kMemberById[] =
    "SELECT " GB_MEMBER_COLS " FROM roster_members WHERE registration_id = ?1 AND context_id = ?2 AND user_id = ?3";
#undef GB_MEMBER_COLS
#define GB_CONTEXT_COLS \
  "registration_id, context_id, memberships_url, differences_url, last_full_sync_at, last_sync_at"
constexpr const char kContextById[] =
    "SELECT " GB_CONTEXT_COLS " FROM roster_contexts WHERE registration_id = ?1 AND context_id = ?2";
constexpr const char kContextsOfRegistration[] =
    "SELECT " GB_CONTEXT_COLS " FROM roster_contexts WHERE registration_id = ?1 ORDER BY context_id";
#undef GB_CONTEXT_COLS
// Newest first through launches_by_created, stopping at the first match: an active context's latest
// launch is near the front. Only called when a context was never synced (then its URL is stored).
constexpr const char kLatestLaunchUrl[] =
    "SELECT json_extract(launch_json, '$.nrps.context_memberships_url') FROM launches "
    "WHERE registration_id = ?1 AND json_valid(launch_json) "
    "AND json_extract(launch_json, '$.context.id') = ?2 "
    "AND json_type(launch_json, '$.nrps.context_memberships_url') = 'text' "
    "AND json_extract(launch_json, '$.nrps.context_memberships_url') <> '' "
    "ORDER BY created_at DESC LIMIT 1";

void BindOptional(Statement& s, int index, const std::optional<std::string>& v) {
  if (v) {
    s.BindText(index, *v);
  } else {
    sqlite3_bind_null(s.raw(), index);
  }
}

std::optional<std::string> OptionalColumn(const Statement& s, int col) {
  if (s.ColumnIsNull(col)) return std::nullopt;
  return s.ColumnText(col);
}

lti::StoredMember MemberFromRow(const Statement& s) {
  lti::StoredMember out;
  lti::Member& m = out.member;
  m.user_id = s.ColumnText(0);
  m.status = lti::ParseMemberStatus(s.ColumnText(1)).value_or(lti::MemberStatus::kActive);
  const std::string roles = s.ColumnText(2);  // Split returns views into it
  for (std::string_view r : Split(roles, ' ')) {
    if (!r.empty()) m.roles.emplace_back(r);
  }
  m.name = OptionalColumn(s, 3);
  m.given_name = OptionalColumn(s, 4);
  m.family_name = OptionalColumn(s, 5);
  m.middle_name = OptionalColumn(s, 6);
  m.email = OptionalColumn(s, 7);
  m.picture = OptionalColumn(s, 8);
  m.lis_person_sourcedid = OptionalColumn(s, 9);
  m.lti11_legacy_user_id = OptionalColumn(s, 10);
  out.updated_at = s.ColumnInt(11);
  return out;
}

lti::RosterState StateFromRow(const Statement& s) {
  lti::RosterState st;
  st.registration_id = lti::RegistrationId(s.ColumnText(0));
  st.context_id = s.ColumnText(1);
  st.memberships_url = s.ColumnText(2);
  st.differences_url = s.ColumnText(3);
  st.last_full_sync_at = s.ColumnInt(4);
  st.last_sync_at = s.ColumnInt(5);
  return st;
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) {
    if (r.empty() || r.find(' ') != std::string::npos) continue;  // canonical URIs hold no spaces
    if (!out.empty()) out += ' ';
    out += r;
  }
  return out;
}

}  // namespace

Status SqliteStore::ApplyRosterSync(const lti::RosterState& state, const std::vector<lti::Member>& members, bool full,
                                    int64_t now) {
  return impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kUpsertContext));
      s.BindText(1, state.registration_id.str());
      s.BindText(2, state.context_id);
      s.BindText(3, state.memberships_url);
      s.BindText(4, state.differences_url);
      s.BindInt(5, state.last_full_sync_at);
      s.BindInt(6, state.last_sync_at);
      int rc = s.Run();
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return Error(Code::kNotFound, "registration.unknown", "The roster's registration does not exist.");
      }
      if (rc != SQLITE_DONE) return c.Error(rc, "saving the roster sync state");
    }
    if (full) {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kMarkAllDeleted));
      s.BindText(1, state.registration_id.str());
      s.BindText(2, state.context_id);
      s.BindInt(3, now);
      int rc = s.Run();
      if (rc != SQLITE_DONE) return c.Error(rc, "marking departed members");
    }
    for (const auto& m : members) {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kUpsertMember));
      s.BindText(1, state.registration_id.str());
      s.BindText(2, state.context_id);
      s.BindText(3, m.user_id);
      s.BindText(4, lti::MemberStatusName(m.status));
      s.BindText(5, JoinRoles(m.roles));
      BindOptional(s, 6, m.name);
      BindOptional(s, 7, m.given_name);
      BindOptional(s, 8, m.family_name);
      BindOptional(s, 9, m.middle_name);
      BindOptional(s, 10, m.email);
      BindOptional(s, 11, m.picture);
      BindOptional(s, 12, m.lis_person_sourcedid);
      BindOptional(s, 13, m.lti11_legacy_user_id);
      s.BindInt(14, now);
      int rc = s.Run();
      if (rc != SQLITE_DONE) return c.Error(rc, "saving a roster member");
    }
    return Status::Ok();
  });
}

Result<std::optional<lti::RosterState>> SqliteStore::GetRosterState(const lti::RegistrationId& registration,
                                                                    std::string_view context_id) {
  std::optional<lti::RosterState> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kContextById));
    s.BindText(1, registration.str());
    s.BindText(2, context_id);
    int rc = s.Step();
    if (rc == SQLITE_ROW) {
      out = StateFromRow(s);
      return Status::Ok();
    }
    if (rc == SQLITE_DONE) return Status::Ok();
    return c.Error(rc, "reading the roster sync state");
  }));
  return out;
}

Result<std::vector<lti::RosterState>> SqliteStore::ListRosterStates(const lti::RegistrationId& registration) {
  std::vector<lti::RosterState> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kContextsOfRegistration));
    s.BindText(1, registration.str());
    for (;;) {
      int rc = s.Step();
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return c.Error(rc, "listing synced contexts");
      out.push_back(StateFromRow(s));
    }
  }));
  return out;
}

Result<std::vector<lti::StoredMember>> SqliteStore::ListMembers(const lti::RegistrationId& registration,
                                                                std::string_view context_id,
                                                                const lti::MemberQuery& query) {
  std::vector<lti::StoredMember> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kMembersAll));
    s.BindText(1, registration.str());
    s.BindText(2, context_id);
    s.BindText(3, query.status ? lti::MemberStatusName(*query.status) : std::string_view());
    s.BindText(4, query.role);
    s.BindInt(5, query.limit > 0 ? query.limit : 0);
    s.BindInt(6, query.current_only ? 1 : 0);
    for (;;) {
      int rc = s.Step();
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return c.Error(rc, "listing roster members");
      out.push_back(MemberFromRow(s));
    }
  }));
  return out;
}

Result<std::optional<lti::StoredMember>> SqliteStore::FindMember(const lti::RegistrationId& registration,
                                                                 std::string_view context_id, std::string_view user_id) {
  std::optional<lti::StoredMember> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kMemberById));
    s.BindText(1, registration.str());
    s.BindText(2, context_id);
    s.BindText(3, user_id);
    int rc = s.Step();
    if (rc == SQLITE_ROW) {
      out = MemberFromRow(s);
      return Status::Ok();
    }
    if (rc == SQLITE_DONE) return Status::Ok();
    return c.Error(rc, "reading a roster member");
  }));
  return out;
}

Result<std::string> SqliteStore::LatestLaunchMembershipsUrl(const lti::RegistrationId& registration,
                                                            std::string_view context_id) {
  std::string out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kLatestLaunchUrl));
    s.BindText(1, registration.str());
    s.BindText(2, context_id);
    int rc = s.Step();
    if (rc == SQLITE_ROW) {
      out = s.ColumnText(0);
      return Status::Ok();
    }
    if (rc == SQLITE_DONE) return Status::Ok();
    return c.Error(rc, "finding the context's memberships URL");
  }));
  return out;
}

}  // namespace gb::storage
