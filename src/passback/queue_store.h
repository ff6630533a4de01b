// QueueStore: the durable score queue the passback engine runs on. Implemented in storage/
// (SQLite now, PostgreSQL later) and held to one contract suite.
//
// Contract:
//   - Enqueue is durable when it returns (committed; callers answer 202 only after it).
//   - Idempotency: (tenant, idempotency_key) is unique. Enqueueing a known key changes nothing and
//     returns the existing id with existing = true.
//   - Coalescing: among records with the same CoalescingKey() in state queued, only the one with the
//     newest timestamp stays queued; the others become superseded (superseded_by = the winner),
//     in the same transaction. Records being delivered or already delivered are never touched.
//   - Claims are leases: ClaimDue moves due queued records (and delivering records whose lease
//     ran out, e.g. after a crash) to delivering under `owner` until lease_until; a worker reports
//     back with Finish, which succeeds only while it still holds the lease (kConflict
//     "queue.lease_lost" otherwise), so two workers never both record an outcome.
//   - Per (coalescing key), at most one record is delivering at a time, so deliveries to one
//     user's column are never reordered.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "passback/score.h"

namespace gb::passback {

struct EnqueueResult {
  std::string id;
  bool existing = false;                     // idempotent replay of a known key
  std::vector<std::string> superseded_ids;   // queued records this one replaced
  bool superseded_on_arrival = false;        // a newer queued score already exists for the key
};

struct QueueCounts {
  std::map<std::string, int64_t> by_state;                 // "queued" -> n
  std::map<std::string, std::map<std::string, int64_t>> by_host_and_state;
  int64_t oldest_due_ms = 0;                               // 0 when nothing is queued
};

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  // Stores each record (id, timestamps and state set by the caller) in one transaction: the
  // group commit that keeps intake fast. Results are in input order.
  virtual Result<std::vector<EnqueueResult>> EnqueueBatch(const std::vector<ScoreRecord>& records) = 0;

  virtual Result<std::vector<ScoreRecord>> ClaimDue(int64_t now_ms, int limit, const std::string& owner,
                                                    int64_t lease_ms) = 0;
  // Records the outcome of an attempt: state, attempts, next_attempt_at_ms, last_http_status,
  // last_response, diagnosis, lineitem_url, delivered_at_ms. Requires the lease.
  virtual Status Finish(const ScoreRecord& record, const std::string& owner) = 0;

  // Hands leased records back without an attempt (nothing was sent): delivering -> queued, due at
  // next_attempt_at_ms, attempts unchanged, no audit entry. Records `owner` no longer leases are
  // skipped silently (someone else holds them now).
  virtual Status Release(const std::vector<std::string>& ids, const std::string& owner,
                         int64_t next_attempt_at_ms) = 0;
  // After a restart: every record leased by an owner starting with `owner_prefix` other than
  // `current_owner` (an earlier incarnation of this node) goes back to queued, due now. Returns
  // how many. Their outcome is unknown (the crash may have come after the platform applied the
  // score), which is safe: a repeated score POST carries the same timestamp and value.
  virtual Result<int64_t> RecoverLeases(const std::string& owner_prefix, const std::string& current_owner,
                                        int64_t now_ms) = 0;

  // kNotFound "score.unknown" (also for another tenant's id).
  virtual Result<ScoreRecord> GetScore(const lti::TenantId& tenant, const std::string& id) = 0;
  virtual Result<ScoreRecord> GetScoreAnyTenant(const std::string& id) = 0;
  virtual Result<std::vector<ScoreRecord>> ListScores(std::optional<ScoreState> state, int limit) = 0;
  virtual Result<QueueCounts> Counts() = 0;
  // failed -> queued, due now, attempts reset. Returns how many were requeued.
  virtual Result<int64_t> RetryFailed(const std::optional<std::string>& id, int64_t now_ms) = 0;
  virtual Result<int64_t> PurgeDelivered(int64_t before_ms) = 0;

  // The newest delivered score for the coalescing key, if any (the "never clear a delivered final
  // grade" rule needs it).
  virtual Result<std::optional<ScoreRecord>> LastDelivered(const std::string& coalescing_key) = 0;
};

}  // namespace gb::passback
