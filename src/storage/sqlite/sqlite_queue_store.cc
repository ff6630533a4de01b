// SqliteStore's score queue and audit log (passback/queue_store.h, passback/audit.h).
// Every change to a score and the audit entries that record it commit in one transaction.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "base/url.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace gb::storage {

using passback::AuditEntry;
using passback::EnqueueResult;
using passback::ScoreRecord;
using passback::ScoreState;
using sqlite_internal::Connection;
using sqlite_internal::IsUniqueViolation;
using sqlite_internal::OpKind;
using sqlite_internal::Statement;

namespace {

#define GB_SCORE_COLS                                                                                       \
  "id, tenant_id, registration_id, idempotency_key, context_id, resource_link_id, lineitem_url,"           \
  " lineitems_url, user_id, launch_id, score_given, score_maximum, activity_progress, grading_progress,"   \
  " comment, graded_by_kind, graded_by_id, graded_by_model, timestamp_ms, state, attempts,"               \
  " next_attempt_at_ms, lease_owner, lease_until_ms, last_http_status, last_response, diagnosis,"         \
  " superseded_by, created_at_ms, updated_at_ms, delivered_at_ms, result_sourcedid"

constexpr const char kInsertScore[] =
    "INSERT INTO scores (" GB_SCORE_COLS ", coalescing_key, platform_host) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
    " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28,"
    " ?29, ?30, ?31, ?32, ?33, ?34)";
constexpr const char kScoreByKey[] = "SELECT id FROM scores WHERE tenant_id = ?1 AND idempotency_key = ?2";
constexpr const char kQueuedForKey[] =
    "SELECT id, timestamp_ms FROM scores WHERE coalescing_key = ?1 AND state = 'queued'";
constexpr const char kSupersede[] =
    "UPDATE scores SET state = 'superseded', superseded_by = ?2, updated_at_ms = ?3 WHERE id = ?1";
constexpr const char kLatestForKey[] =
    "SELECT " GB_SCORE_COLS " FROM scores WHERE coalescing_key = ?1 AND state IN ('queued','delivering','delivered')"
    " ORDER BY timestamp_ms DESC, created_at_ms DESC LIMIT 1";
constexpr const char kLastDelivered[] =
    "SELECT " GB_SCORE_COLS " FROM scores WHERE coalescing_key = ?1 AND state = 'delivered'"
    " ORDER BY timestamp_ms DESC LIMIT 1";
constexpr const char kDue[] =
    "SELECT id, coalescing_key FROM scores WHERE (state = 'queued' AND next_attempt_at_ms <= ?1)"
    " OR (state = 'delivering' AND lease_until_ms < ?1) ORDER BY next_attempt_at_ms LIMIT ?2";
constexpr const char kKeyBusy[] =
    "SELECT 1 FROM scores WHERE coalescing_key = ?1 AND state = 'delivering' AND lease_until_ms >= ?2 LIMIT 1";
constexpr const char kLease[] =
    "UPDATE scores SET state = 'delivering', lease_owner = ?2, lease_until_ms = ?3, updated_at_ms = ?4"
    " WHERE id = ?1";
constexpr const char kScoreById[] = "SELECT " GB_SCORE_COLS " FROM scores WHERE id = ?1";
constexpr const char kFinish[] =
    "UPDATE scores SET state = ?3, attempts = ?4, next_attempt_at_ms = ?5, last_http_status = ?6,"
    " last_response = ?7, diagnosis = ?8, lineitem_url = ?9, delivered_at_ms = ?10, updated_at_ms = ?11,"
    " lease_owner = '', lease_until_ms = 0 WHERE id = ?1 AND state = 'delivering' AND lease_owner = ?2";
constexpr const char kRelease[] =
    "UPDATE scores SET state = 'queued', next_attempt_at_ms = ?3, lease_owner = '', lease_until_ms = 0,"
    " updated_at_ms = ?4 WHERE id = ?1 AND state = 'delivering' AND lease_owner = ?2";
// substr rather than LIKE: a node id may contain '%' or '_'.
constexpr const char kRecoverLeases[] =
    "UPDATE scores SET state = 'queued', next_attempt_at_ms = ?3, lease_owner = '', lease_until_ms = 0,"
    " updated_at_ms = ?3 WHERE state = 'delivering' AND substr(lease_owner, 1, length(?1)) = ?1"
    " AND lease_owner <> ?2";
// A score for the same column and user that is newer than ?1 (later grading time, or the same
// time and accepted later) and still going to be, or already, in the gradebook.
constexpr const char kNewerThan[] =
    "SELECT n.id FROM scores o JOIN scores n ON n.coalescing_key = o.coalescing_key"
    " WHERE o.id = ?1 AND n.id <> o.id AND n.state IN ('queued','delivering','delivered')"
    " AND (n.timestamp_ms > o.timestamp_ms OR (n.timestamp_ms = o.timestamp_ms AND n.created_at_ms > o.created_at_ms))"
    " ORDER BY n.timestamp_ms DESC, n.created_at_ms DESC LIMIT 1";
constexpr const char kListAll[] = "SELECT " GB_SCORE_COLS " FROM scores ORDER BY created_at_ms DESC LIMIT ?1";
constexpr const char kListByState[] =
    "SELECT " GB_SCORE_COLS " FROM scores WHERE state = ?2 ORDER BY created_at_ms DESC LIMIT ?1";
constexpr const char kCounts[] = "SELECT platform_host, state, COUNT(*) FROM scores GROUP BY platform_host, state";
constexpr const char kOldestDue[] = "SELECT MIN(next_attempt_at_ms) FROM scores WHERE state = 'queued'";
constexpr const char kFailedIds[] = "SELECT id FROM scores WHERE state = 'failed' AND (?1 = '' OR id = ?1)";
constexpr const char kRetry[] =
    "UPDATE scores SET state = 'queued', attempts = 0, next_attempt_at_ms = ?2, diagnosis = '',"
    " updated_at_ms = ?2 WHERE id = ?1 AND state = 'failed'";
constexpr const char kPurge[] = "DELETE FROM scores WHERE state IN ('delivered','superseded') AND updated_at_ms < ?1";
constexpr const char kLastAudit[] = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
constexpr const char kInsertAudit[] =
    "INSERT INTO audit_log (seq, at_ms, tenant_id, score_id, event, actor, detail, prev_hash, hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char kReadAudit[] =
    "SELECT seq, at_ms, tenant_id, score_id, event, actor, detail, prev_hash, hash FROM audit_log"
    " WHERE seq > ?1 ORDER BY seq LIMIT ?2";
#undef GB_SCORE_COLS

ScoreRecord ReadScore(const Statement& s) {
  ScoreRecord r;
  int c = 0;
  r.id = s.ColumnText(c++);
  r.tenant_id = lti::TenantId(s.ColumnText(c++));
  r.registration_id = lti::RegistrationId(s.ColumnText(c++));
  r.idempotency_key = s.ColumnText(c++);
  r.context_id = s.ColumnText(c++);
  r.resource_link_id = s.ColumnText(c++);
  r.lineitem_url = s.ColumnText(c++);
  r.lineitems_url = s.ColumnText(c++);
  r.user_id = s.ColumnText(c++);
  r.launch_id = s.ColumnText(c++);
  if (!s.ColumnIsNull(c)) r.score_given = sqlite3_column_double(s.raw(), c);
  ++c;
  if (!s.ColumnIsNull(c)) r.score_maximum = sqlite3_column_double(s.raw(), c);
  ++c;
  r.activity_progress = s.ColumnText(c++);
  r.grading_progress = s.ColumnText(c++);
  r.comment = s.ColumnText(c++);
  r.graded_by.kind = s.ColumnText(c++);
  r.graded_by.id = s.ColumnText(c++);
  r.graded_by.model = s.ColumnText(c++);
  r.timestamp_ms = s.ColumnInt(c++);
  r.state = passback::ParseState(s.ColumnText(c++)).value_or(ScoreState::kFailed);
  r.attempts = static_cast<int>(s.ColumnInt(c++));
  r.next_attempt_at_ms = s.ColumnInt(c++);
  r.lease_owner = s.ColumnText(c++);
  r.lease_until_ms = s.ColumnInt(c++);
  r.last_http_status = static_cast<int>(s.ColumnInt(c++));
  r.last_response = s.ColumnText(c++);
  r.diagnosis = s.ColumnText(c++);
  r.superseded_by = s.ColumnText(c++);
  r.created_at_ms = s.ColumnInt(c++);
  r.updated_at_ms = s.ColumnInt(c++);
  r.delivered_at_ms = s.ColumnInt(c++);
  r.result_sourcedid = s.ColumnText(c++);
  return r;
}

std::string PlatformHost(const ScoreRecord& r) {
  const std::string& url = !r.lineitem_url.empty() ? r.lineitem_url : r.lineitems_url;
  auto u = Url::Parse(url);
  return u.ok() ? u->host : "";
}

std::string Actor(const ScoreRecord& r) {
  std::string a = r.graded_by.kind + ":" + r.graded_by.id;
  if (!r.graded_by.model.empty()) a += "/" + r.graded_by.model;
  return a;
}

nlohmann::json ScoreDetail(const ScoreRecord& r) {
  nlohmann::json j = {{"user_id", r.user_id},
                      {"registration_id", r.registration_id.str()},
                      {"activity_progress", r.activity_progress},
                      {"grading_progress", r.grading_progress},
                      {"timestamp_ms", r.timestamp_ms}};
  j["score_given"] = r.score_given ? nlohmann::json(*r.score_given) : nlohmann::json(nullptr);
  j["score_maximum"] = r.score_maximum ? nlohmann::json(*r.score_maximum) : nlohmann::json(nullptr);
  if (!r.lineitem_url.empty()) j["lineitem_url"] = r.lineitem_url;
  else j["resource_link_id"] = r.resource_link_id;
  return j;
}

// Appends one entry to the chain, inside the caller's transaction.
Status AppendAudit(Connection& c, int64_t at_ms, const std::string& tenant, const std::string& score_id,
                   const std::string& event, const std::string& actor, const nlohmann::json& detail) {
  AuditEntry e;
  {
    GB_ASSIGN_OR_RETURN(Statement last, c.Prepare(kLastAudit));
    int rc = last.Step();
    if (rc == SQLITE_ROW) {
      e.seq = last.ColumnInt(0) + 1;
      e.prev_hash = last.ColumnText(1);
    } else if (rc == SQLITE_DONE) {
      e.seq = 1;
    } else {
      return c.Error(rc, "reading the audit chain head");
    }
  }
  e.at_ms = at_ms;
  e.tenant_id = tenant;
  e.score_id = score_id;
  e.event = event;
  e.actor = actor;
  e.detail = detail.dump();
  e.hash = passback::ComputeAuditHash(e);
  GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertAudit));
  s.BindInt(1, e.seq);
  s.BindInt(2, e.at_ms);
  s.BindText(3, e.tenant_id);
  s.BindText(4, e.score_id);
  s.BindText(5, e.event);
  s.BindText(6, e.actor);
  s.BindText(7, e.detail);
  s.BindText(8, e.prev_hash);
  s.BindText(9, e.hash);
  int rc = s.Run();
  if (rc != SQLITE_DONE) return c.Error(rc, "appending to the audit log");
  return Status::Ok();
}

Result<std::optional<ScoreRecord>> QueryOne(Connection& c, const char* sql, const std::string& arg) {
  GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(sql));
  s.BindText(1, arg);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<ScoreRecord>(ReadScore(s));
  if (rc == SQLITE_DONE) return std::optional<ScoreRecord>();
  return c.Error(rc, "reading a score");
}

void BindDouble(Statement& s, int index, const std::optional<double>& v) {
  if (v) sqlite3_bind_double(s.raw(), index, *v);
  else sqlite3_bind_null(s.raw(), index);
}

// A score going back to `queued` (a retry, a hand-back) must not be sent after a newer one for
// the same column and user: that would roll the gradebook back on a platform that does not check
// timestamps, and be refused as stale by one that does. Supersede it instead, with an audit entry.
Result<bool> SupersedeIfOutdated(Connection& c, const std::string& id, const std::string& tenant, int64_t now_ms) {
  std::string newer;
  {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kNewerThan));
    s.BindText(1, id);
    int rc = s.Step();
    if (rc == SQLITE_ROW) newer = s.ColumnText(0);
    else if (rc != SQLITE_DONE) return c.Error(rc, "looking for a newer score");
  }
  if (newer.empty()) return false;
  {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kSupersede));
    s.BindText(1, id);
    s.BindText(2, newer);
    s.BindInt(3, now_ms);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "superseding an outdated score");
  }
  GB_RETURN_IF_ERROR(AppendAudit(c, now_ms, tenant, id, "score.superseded", "system:queue", {{"superseded_by", newer}}));
  return true;
}

Status EnqueueOne(Connection& c, const ScoreRecord& r, EnqueueResult& out) {
  // Idempotent replay: a known key changes nothing.
  {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kScoreByKey));
    s.BindText(1, r.tenant_id.str());
    s.BindText(2, r.idempotency_key);
    int rc = s.Step();
    if (rc == SQLITE_ROW) {
      out.id = s.ColumnText(0);
      out.existing = true;
      return Status::Ok();
    }
    if (rc != SQLITE_DONE) return c.Error(rc, "looking up an idempotency key");
  }
  const std::string key = r.CoalescingKey();
  out.id = r.id;
  ScoreRecord stored = r;
  // The value this score corrects, for the audit trail (old -> new).
  GB_ASSIGN_OR_RETURN(std::optional<ScoreRecord> previous, QueryOne(c, kLatestForKey, key));

  // Coalescing: the newest queued score per key stays queued; older ones are superseded.
  std::vector<std::pair<std::string, int64_t>> queued;
  {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kQueuedForKey));
    s.BindText(1, key);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) queued.emplace_back(s.ColumnText(0), s.ColumnInt(1));
    if (rc != SQLITE_DONE) return c.Error(rc, "reading queued scores");
  }
  std::string newer_winner;
  for (const auto& [id, ts] : queued) {
    if (ts > r.timestamp_ms) newer_winner = id;
  }
  // A late arrival older than what is being or has been delivered must not follow it.
  if (newer_winner.empty() && previous && previous->timestamp_ms > r.timestamp_ms) newer_winner = previous->id;
  if (!newer_winner.empty()) {
    stored.state = ScoreState::kSuperseded;
    stored.superseded_by = newer_winner;
    out.superseded_on_arrival = true;
  } else {
    for (const auto& [id, ts] : queued) {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kSupersede));
      s.BindText(1, id);
      s.BindText(2, r.id);
      s.BindInt(3, r.created_at_ms);
      int rc = s.Run();
      if (rc != SQLITE_DONE) return c.Error(rc, "superseding a queued score");
      out.superseded_ids.push_back(id);
    }
  }

  GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kInsertScore));
  int i = 1;
  s.BindText(i++, stored.id);
  s.BindText(i++, stored.tenant_id.str());
  s.BindText(i++, stored.registration_id.str());
  s.BindText(i++, stored.idempotency_key);
  s.BindText(i++, stored.context_id);
  s.BindText(i++, stored.resource_link_id);
  s.BindText(i++, stored.lineitem_url);
  s.BindText(i++, stored.lineitems_url);
  s.BindText(i++, stored.user_id);
  s.BindText(i++, stored.launch_id);
  BindDouble(s, i++, stored.score_given);
  BindDouble(s, i++, stored.score_maximum);
  s.BindText(i++, stored.activity_progress);
  s.BindText(i++, stored.grading_progress);
  s.BindText(i++, stored.comment);
  s.BindText(i++, stored.graded_by.kind);
  s.BindText(i++, stored.graded_by.id);
  s.BindText(i++, stored.graded_by.model);
  s.BindInt(i++, stored.timestamp_ms);
  s.BindText(i++, passback::StateName(stored.state));
  s.BindInt(i++, stored.attempts);
  s.BindInt(i++, stored.next_attempt_at_ms);
  s.BindText(i++, stored.lease_owner);
  s.BindInt(i++, stored.lease_until_ms);
  s.BindInt(i++, stored.last_http_status);
  s.BindText(i++, stored.last_response);
  s.BindText(i++, stored.diagnosis);
  s.BindText(i++, stored.superseded_by);
  s.BindInt(i++, stored.created_at_ms);
  s.BindInt(i++, stored.updated_at_ms);
  s.BindInt(i++, stored.delivered_at_ms);
  s.BindText(i++, stored.result_sourcedid);
  s.BindText(i++, key);
  s.BindText(i++, PlatformHost(stored));
  int rc = s.Run();
  if (IsUniqueViolation(rc)) return Error(Code::kConflict, "score.duplicate_id", "A score with this id already exists.");
  if (rc != SQLITE_DONE) return c.Error(rc, "storing a score");

  const std::string tenant = stored.tenant_id.str();
  GB_RETURN_IF_ERROR(AppendAudit(c, stored.created_at_ms, tenant, stored.id, "score.received", Actor(stored),
                                 ScoreDetail(stored)));
  if (previous && previous->score_given != stored.score_given) {
    nlohmann::json d = {{"previous_score_id", previous->id}, {"user_id", stored.user_id}};
    d["old"] = previous->score_given ? nlohmann::json(*previous->score_given) : nlohmann::json(nullptr);
    d["new"] = stored.score_given ? nlohmann::json(*stored.score_given) : nlohmann::json(nullptr);
    GB_RETURN_IF_ERROR(AppendAudit(c, stored.created_at_ms, tenant, stored.id, "score.corrected", Actor(stored), d));
  }
  for (const auto& id : out.superseded_ids) {
    GB_RETURN_IF_ERROR(AppendAudit(c, stored.created_at_ms, tenant, id, "score.superseded", "system:queue",
                                   {{"superseded_by", stored.id}}));
  }
  if (out.superseded_on_arrival) {
    GB_RETURN_IF_ERROR(AppendAudit(c, stored.created_at_ms, tenant, stored.id, "score.superseded", "system:queue",
                                   {{"superseded_by", newer_winner}, {"reason", "a newer score is already queued"}}));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<EnqueueResult>> SqliteStore::EnqueueBatch(const std::vector<ScoreRecord>& records) {
  std::vector<EnqueueResult> results(records.size());
  GB_RETURN_IF_ERROR(impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    for (size_t i = 0; i < records.size(); ++i) {
      results[i] = EnqueueResult{};
      GB_RETURN_IF_ERROR(EnqueueOne(c, records[i], results[i]));
    }
    return Status::Ok();
  }));
  return results;
}

Result<std::vector<ScoreRecord>> SqliteStore::ClaimDue(int64_t now_ms, int limit, const std::string& owner,
                                                       int64_t lease_ms) {
  std::vector<ScoreRecord> claimed;
  GB_RETURN_IF_ERROR(impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    claimed.clear();
    std::vector<std::pair<std::string, std::string>> due;
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kDue));
      s.BindInt(1, now_ms);
      s.BindInt(2, static_cast<int64_t>(limit) * 4);  // room to skip busy keys
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) due.emplace_back(s.ColumnText(0), s.ColumnText(1));
      if (rc != SQLITE_DONE) return c.Error(rc, "finding due scores");
    }
    std::set<std::string> keys;
    for (const auto& [id, key] : due) {
      if (static_cast<int>(claimed.size()) >= limit) break;
      if (!keys.insert(key).second) continue;  // one delivery per column and user at a time
      {
        GB_ASSIGN_OR_RETURN(Statement busy, c.Prepare(kKeyBusy));
        busy.BindText(1, key);
        busy.BindInt(2, now_ms);
        int rc = busy.Step();
        if (rc == SQLITE_ROW) continue;
        if (rc != SQLITE_DONE) return c.Error(rc, "checking in-flight deliveries");
      }
      // The single choke point before anything is sent: whatever path put this score back in
      // the queue (a retry, a hand-back, a crashed node's lease), it never goes after a newer one.
      GB_ASSIGN_OR_RETURN(std::optional<ScoreRecord> candidate, QueryOne(c, kScoreById, id));
      if (!candidate) continue;
      GB_ASSIGN_OR_RETURN(bool outdated, SupersedeIfOutdated(c, id, candidate->tenant_id.str(), now_ms));
      if (outdated) continue;
      {
        GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kLease));
        s.BindText(1, id);
        s.BindText(2, owner);
        s.BindInt(3, now_ms + lease_ms);
        s.BindInt(4, now_ms);
        int rc = s.Run();
        if (rc != SQLITE_DONE) return c.Error(rc, "leasing a score");
      }
      // kLease changed exactly these columns of the row read above.
      candidate->state = ScoreState::kDelivering;
      candidate->lease_owner = owner;
      candidate->lease_until_ms = now_ms + lease_ms;
      candidate->updated_at_ms = now_ms;
      claimed.push_back(std::move(*candidate));
    }
    return Status::Ok();
  }));
  return claimed;
}

Status SqliteStore::Finish(const ScoreRecord& r, const std::string& owner) {
  return impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kFinish));
    s.BindText(1, r.id);
    s.BindText(2, owner);
    s.BindText(3, passback::StateName(r.state));
    s.BindInt(4, r.attempts);
    s.BindInt(5, r.next_attempt_at_ms);
    s.BindInt(6, r.last_http_status);
    s.BindText(7, r.last_response.substr(0, 2000));
    s.BindText(8, r.diagnosis);
    s.BindText(9, r.lineitem_url);
    s.BindInt(10, r.delivered_at_ms);
    s.BindInt(11, r.updated_at_ms);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "recording a delivery outcome");
    if (sqlite3_changes64(c.db()) == 0) {
      return Error(Code::kConflict, "queue.lease_lost", "Another worker took over this score's delivery.");
    }
    nlohmann::json d = {{"attempt", r.attempts}, {"http_status", r.last_http_status}, {"state", passback::StateName(r.state)}};
    if (!r.diagnosis.empty()) d["diagnosis"] = r.diagnosis;
    std::string event = r.state == ScoreState::kDelivered    ? "delivered"
                        : r.state == ScoreState::kFailed     ? "failed"
                        : r.state == ScoreState::kSuperseded ? "not_sent"
                                                             : "attempt";
    GB_RETURN_IF_ERROR(AppendAudit(c, r.updated_at_ms, r.tenant_id.str(), r.id, event, "system:" + owner, d));
    if (r.state != ScoreState::kQueued) return Status::Ok();
    return SupersedeIfOutdated(c, r.id, r.tenant_id.str(), r.updated_at_ms).status();
  });
}

Status SqliteStore::Release(const std::vector<std::string>& ids, const std::string& owner,
                            int64_t next_attempt_at_ms) {
  if (ids.empty()) return Status::Ok();
  return impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    for (const auto& id : ids) {
      {
        GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRelease));  // cached; the destructor resets it
        s.BindText(1, id);
        s.BindText(2, owner);
        s.BindInt(3, next_attempt_at_ms);
        s.BindInt(4, next_attempt_at_ms);
        int rc = s.Run();
        if (rc != SQLITE_DONE) return c.Error(rc, "handing a score back to the queue");
        if (sqlite3_changes64(c.db()) == 0) continue;
      }
      GB_ASSIGN_OR_RETURN(std::optional<ScoreRecord> r, QueryOne(c, kScoreById, id));
      if (r) GB_RETURN_IF_ERROR(SupersedeIfOutdated(c, id, r->tenant_id.str(), next_attempt_at_ms).status());
    }
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::RecoverLeases(const std::string& owner_prefix, const std::string& current_owner,
                                           int64_t now_ms) {
  int64_t changed = 0;
  GB_RETURN_IF_ERROR(impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRecoverLeases));
    s.BindText(1, owner_prefix);
    s.BindText(2, current_owner);
    s.BindInt(3, now_ms);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "recovering interrupted deliveries");
    changed = sqlite3_changes64(c.db());
    return Status::Ok();
  }));
  return changed;
}

Result<ScoreRecord> SqliteStore::GetScore(const lti::TenantId& tenant, const std::string& id) {
  GB_ASSIGN_OR_RETURN(ScoreRecord r, GetScoreAnyTenant(id));
  if (r.tenant_id != tenant) return Error(Code::kNotFound, "score.unknown", "No score " + id + ".");
  return r;
}

Result<ScoreRecord> SqliteStore::GetScoreAnyTenant(const std::string& id) {
  std::optional<ScoreRecord> found;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(found, QueryOne(c, kScoreById, id));
    return Status::Ok();
  }));
  if (!found) return Error(Code::kNotFound, "score.unknown", "No score " + id + ".");
  return *found;
}

Result<std::vector<ScoreRecord>> SqliteStore::ListScores(std::optional<ScoreState> state, int limit) {
  std::vector<ScoreRecord> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(state ? kListByState : kListAll));
    s.BindInt(1, limit);
    if (state) s.BindText(2, passback::StateName(*state));
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadScore(s));
    return rc == SQLITE_DONE ? Status::Ok() : c.Error(rc, "listing scores");
  }));
  return out;
}

Result<passback::QueueCounts> SqliteStore::Counts() {
  passback::QueueCounts counts;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kCounts));
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        std::string host = s.ColumnText(0), state = s.ColumnText(1);
        int64_t n = s.ColumnInt(2);
        counts.by_state[state] += n;
        counts.by_host_and_state[host.empty() ? "(unresolved)" : host][state] += n;
      }
      if (rc != SQLITE_DONE) return c.Error(rc, "counting scores");
    }
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kOldestDue));
    if (s.Step() == SQLITE_ROW && !s.ColumnIsNull(0)) counts.oldest_due_ms = s.ColumnInt(0);
    return Status::Ok();
  }));
  return counts;
}

Result<int64_t> SqliteStore::RetryFailed(const std::optional<std::string>& id, int64_t now_ms) {
  int64_t n = 0;
  GB_RETURN_IF_ERROR(impl_->Write(OpKind::kMultiStatement, [&](Connection& c) -> Status {
    n = 0;
    std::vector<std::pair<std::string, std::string>> ids;
    {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kFailedIds));
      s.BindText(1, id.value_or(""));
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) ids.emplace_back(s.ColumnText(0), "");
      if (rc != SQLITE_DONE) return c.Error(rc, "finding failed scores");
    }
    for (const auto& [sid, unused] : ids) {
      GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kRetry));
      s.BindText(1, sid);
      s.BindInt(2, now_ms);
      int rc = s.Run();
      if (rc != SQLITE_DONE) return c.Error(rc, "requeueing a failed score");
      GB_ASSIGN_OR_RETURN(std::optional<ScoreRecord> r, QueryOne(c, kScoreById, sid));
      GB_RETURN_IF_ERROR(AppendAudit(c, now_ms, r ? r->tenant_id.str() : "", sid, "retried", "system:admin", nlohmann::json::object()));
      ++n;
    }
    return Status::Ok();
  }));
  return n;
}

Result<int64_t> SqliteStore::PurgeDelivered(int64_t before_ms) {
  int64_t n = 0;
  GB_RETURN_IF_ERROR(impl_->Write(OpKind::kSingleStatement, [&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kPurge));
    s.BindInt(1, before_ms);
    int rc = s.Run();
    if (rc != SQLITE_DONE) return c.Error(rc, "purging delivered scores");
    n = sqlite3_changes64(c.db());
    return Status::Ok();
  }));
  return n;
}

Result<std::optional<ScoreRecord>> SqliteStore::LastDelivered(const std::string& coalescing_key) {
  std::optional<ScoreRecord> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(out, QueryOne(c, kLastDelivered, coalescing_key));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<AuditEntry>> SqliteStore::ReadAudit(int64_t after_seq, int limit) {
  std::vector<AuditEntry> out;
  GB_RETURN_IF_ERROR(impl_->Read([&](Connection& c) -> Status {
    GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kReadAudit));
    s.BindInt(1, after_seq);
    s.BindInt(2, limit);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      out.push_back(AuditEntry{s.ColumnInt(0), s.ColumnInt(1), s.ColumnText(2), s.ColumnText(3), s.ColumnText(4),
                               s.ColumnText(5), s.ColumnText(6), s.ColumnText(7), s.ColumnText(8)});
    }
    return rc == SQLITE_DONE ? Status::Ok() : c.Error(rc, "reading the audit log");
  }));
  return out;
}

}  // namespace gb::storage
