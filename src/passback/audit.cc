#include "passback/audit.h"

#include "base/strings.h"
#include "jose/jose.h"

namespace gb::passback {
namespace {

void Field(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
  out += ';';
}

}  // namespace

std::string CanonicalAuditBytes(const AuditEntry& e) {
  std::string out = "gb-audit-v1;";
  Field(out, std::to_string(e.seq));
  Field(out, std::to_string(e.at_ms));
  Field(out, e.tenant_id);
  Field(out, e.score_id);
  Field(out, e.event);
  Field(out, e.actor);
  Field(out, e.detail);
  return out;
}

std::string ComputeAuditHash(const AuditEntry& e) {
  return HexEncode(jose::Sha256(e.prev_hash + "|" + CanonicalAuditBytes(e)));
}

AuditVerification VerifyAuditChain(const std::vector<AuditEntry>& entries) {
  AuditVerification v;
  std::string prev = kAuditGenesis;
  int64_t expected_seq = 1;
  for (const auto& e : entries) {
    ++v.entries;
    auto bad = [&](std::string why) {
      v.ok = false;
      v.first_bad_seq = e.seq;
      v.problem = std::move(why);
      return v;
    };
    if (e.seq != expected_seq) {
      return bad("entry " + std::to_string(expected_seq) + " is missing or out of order (found " +
                 std::to_string(e.seq) + ")");
    }
    if (e.prev_hash != prev) return bad("entry " + std::to_string(e.seq) + " does not link to the entry before it");
    if (e.hash != ComputeAuditHash(e)) {
      return bad("entry " + std::to_string(e.seq) + " was modified after it was written");
    }
    prev = e.hash;
    ++expected_seq;
  }
  return v;
}

}  // namespace gb::passback
