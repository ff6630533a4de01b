#include "passback/audit.h"

#include <gtest/gtest.h>

namespace gb::passback {
namespace {

std::vector<AuditEntry> Chain(int n) {
  std::vector<AuditEntry> out;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    AuditEntry e{i, 1000 + i, "t1", "s" + std::to_string(i), "score.received", "ai:grader/m1",
                 "{\"score_given\":" + std::to_string(i) + "}", prev, ""};
    e.hash = ComputeAuditHash(e);
    prev = e.hash;
    out.push_back(e);
  }
  return out;
}

TEST(AuditChainTest, IntactChainVerifies) {
  auto v = VerifyAuditChain(Chain(5));
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 5);
  EXPECT_TRUE(VerifyAuditChain({}).ok);
}

TEST(AuditChainTest, DetectsEditedRemovedReorderedAndForgedRows) {
  auto edited = Chain(5);
  edited[2].detail = "{\"score_given\":100}";
  auto v = VerifyAuditChain(edited);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);

  auto removed = Chain(5);
  removed.erase(removed.begin() + 1);
  EXPECT_FALSE(VerifyAuditChain(removed).ok);

  auto reordered = Chain(5);
  std::swap(reordered[1], reordered[2]);
  EXPECT_FALSE(VerifyAuditChain(reordered).ok);

  // Rewriting an entry and recomputing its own hash still breaks the next link.
  auto forged = Chain(5);
  forged[1].actor = "human:someone-else";
  forged[1].hash = ComputeAuditHash(forged[1]);
  v = VerifyAuditChain(forged);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);

  auto truncated_tail_is_fine_but_renumbered_is_not = Chain(3);
  truncated_tail_is_fine_but_renumbered_is_not[0].seq = 2;
  EXPECT_FALSE(VerifyAuditChain(truncated_tail_is_fine_but_renumbered_is_not).ok);
}

TEST(AuditChainTest, FieldBoundariesAreUnambiguous) {
  AuditEntry a{1, 1, "t", "s", "ab", "c", "{}", "", ""};
  AuditEntry b{1, 1, "t", "s", "a", "bc", "{}", "", ""};
  EXPECT_NE(ComputeAuditHash(a), ComputeAuditHash(b));
}

}  // namespace
}  // namespace gb::passback
