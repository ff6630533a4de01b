// The audit trail: every received score (with who graded it), correction of an earlier grade,
// delivery attempt and outcome, appended to a hash chain. Each entry's hash covers its canonical
// bytes and the previous entry's hash, so editing, removing, inserting or reordering any entry
// breaks every hash after it; `gradebridge audit verify` recomputes the chain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace gb::passback {

struct AuditEntry {
  int64_t seq = 0;        // 1, 2, 3, ... without gaps
  int64_t at_ms = 0;
  std::string tenant_id;
  std::string score_id;
  std::string event;      // score.received | score.corrected | score.superseded | attempt | delivered | failed | retried
  std::string actor;      // "human:<id>", "ai:<id>/<model>", "system:<id>"
  std::string detail;     // JSON object text
  std::string prev_hash;  // hex; empty string for seq 1
  std::string hash;       // hex SHA-256
};

inline constexpr char kAuditGenesis[] = "";

// Canonical bytes hashed for an entry: fields length-prefixed so no two entries share bytes.
std::string CanonicalAuditBytes(const AuditEntry& e);
// hash = hex(SHA-256(prev_hash || canonical bytes)).
std::string ComputeAuditHash(const AuditEntry& e);

struct AuditVerification {
  bool ok = true;
  int64_t entries = 0;
  int64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;        // plain language
};

// Checks sequence numbers, links and hashes, in order.
AuditVerification VerifyAuditChain(const std::vector<AuditEntry>& entries);

// Port: reading the stored chain (entries are appended by the QueueStore in the same transaction
// as the change they record).
class AuditReader {
 public:
  virtual ~AuditReader() = default;
  // Entries with seq > after_seq, in order, at most `limit`.
  virtual Result<std::vector<AuditEntry>> ReadAudit(int64_t after_seq, int limit) = 0;
};

}  // namespace gb::passback
