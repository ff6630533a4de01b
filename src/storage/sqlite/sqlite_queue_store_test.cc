// The score queue and audit log on SQLite: the QueueStore contract (passback/queue_store.h).
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_test_util.h"

namespace gb::storage {
namespace {

using passback::ScoreRecord;
using passback::ScoreState;

class QueueStoreTest : public ::testing::Test {
 protected:
  test_util::TempDir dir;
  std::string path = dir.File("q.db");
  std::unique_ptr<SqliteStore> store = test_util::OpenOrDie(path);
  int next_id = 0;

  ScoreRecord Score(const std::string& user, double given, int64_t ts_ms, const std::string& key = "") {
    ScoreRecord r;
    r.id = "s" + std::to_string(++next_id);
    r.tenant_id = lti::TenantId("t1");
    r.registration_id = lti::RegistrationId("r1");
    r.idempotency_key = key.empty() ? "k-" + r.id : key;
    r.lineitem_url = "https://lms.test/lineitems/1/lineitem?type_id=1";
    r.user_id = user;
    r.score_given = given;
    r.score_maximum = 10;
    r.graded_by = {"ai", "grader", "m1"};
    r.timestamp_ms = ts_ms;
    r.next_attempt_at_ms = 1000;
    r.created_at_ms = ts_ms;
    r.updated_at_ms = ts_ms;
    return r;
  }

  passback::EnqueueResult Enqueue(const ScoreRecord& r) {
    auto res = store->EnqueueBatch({r});
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? res->front() : passback::EnqueueResult{};
  }

  ScoreState StateOf(const std::string& id) { return store->GetScoreAnyTenant(id)->state; }
};

TEST_F(QueueStoreTest, EnqueueIsIdempotentPerTenantKeyAndTenantIsolated) {
  auto a = Enqueue(Score("u1", 7, 5000, "same-key"));
  EXPECT_FALSE(a.existing);
  auto again = Enqueue(Score("u1", 9, 6000, "same-key"));
  EXPECT_TRUE(again.existing);
  EXPECT_EQ(again.id, a.id);
  EXPECT_EQ(*store->GetScoreAnyTenant(a.id)->score_given, 7);  // the replay changed nothing
  auto other_tenant = Score("u1", 3, 7000, "same-key");
  other_tenant.tenant_id = lti::TenantId("t2");
  EXPECT_FALSE(Enqueue(other_tenant).existing);
  EXPECT_TRUE(store->GetScore(lti::TenantId("t1"), a.id).ok());
  EXPECT_EQ(store->GetScore(lti::TenantId("t2"), a.id).status().reason(), "score.unknown");
}

TEST_F(QueueStoreTest, ValuesRoundTrip) {
  auto r = Score("u1", 6.75, 5000);
  r.score_maximum = 40;
  r.comment = "well argued";
  r.activity_progress = "Submitted";
  r.grading_progress = "PendingManual";
  r.score_given.reset();
  Enqueue(r);
  auto got = store->GetScoreAnyTenant(r.id);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->score_given.has_value());
  EXPECT_EQ(*got->score_maximum, 40);
  EXPECT_EQ(got->comment, "well argued");
  EXPECT_EQ(got->grading_progress, "PendingManual");
  EXPECT_EQ(got->graded_by.model, "m1");
  EXPECT_EQ(got->lineitem_url, r.lineitem_url);
  EXPECT_EQ(got->state, ScoreState::kQueued);
}

TEST_F(QueueStoreTest, NewerScoreSupersedesQueuedOlderOne) {
  auto first = Score("u1", 5, 5000);
  auto second = Score("u1", 8, 6000);
  auto other_user = Score("u2", 4, 5500);
  Enqueue(first);
  Enqueue(other_user);
  auto r = Enqueue(second);
  ASSERT_EQ(r.superseded_ids.size(), 1u);
  EXPECT_EQ(r.superseded_ids[0], first.id);
  EXPECT_EQ(StateOf(first.id), ScoreState::kSuperseded);
  EXPECT_EQ(store->GetScoreAnyTenant(first.id)->superseded_by, second.id);
  EXPECT_EQ(StateOf(second.id), ScoreState::kQueued);
  EXPECT_EQ(StateOf(other_user.id), ScoreState::kQueued);

  // A score graded earlier than the queued one arrives late: it is kept, marked superseded.
  auto late = Score("u1", 1, 5500);
  auto lr = Enqueue(late);
  EXPECT_TRUE(lr.superseded_on_arrival);
  EXPECT_EQ(StateOf(late.id), ScoreState::kSuperseded);
  EXPECT_EQ(StateOf(second.id), ScoreState::kQueued);
}

TEST_F(QueueStoreTest, ClaimsAreLeasesWithFencingAndOnePerColumnAndUser) {
  auto a = Score("u1", 5, 5000);
  auto b = Score("u2", 6, 5000);
  Enqueue(a);
  Enqueue(b);
  auto claimed = store->ClaimDue(2000, 10, "worker-1", 30'000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].state, ScoreState::kDelivering);
  // Leased work is not handed out twice.
  EXPECT_TRUE(store->ClaimDue(2000, 10, "worker-2", 30'000)->empty());
  // A newer score for u1 while u1's delivery is in flight: queued, but not claimable yet.
  auto a2 = Score("u1", 9, 9000);
  Enqueue(a2);
  EXPECT_EQ(StateOf(a.id), ScoreState::kDelivering);  // in-flight records are never superseded
  EXPECT_TRUE(store->ClaimDue(10'000, 10, "worker-2", 30'000)->empty());

  ScoreRecord done = (*claimed)[0];
  done.state = ScoreState::kDelivered;
  done.attempts = 1;
  done.last_http_status = 200;
  done.delivered_at_ms = 3000;
  done.updated_at_ms = 3000;
  EXPECT_EQ(store->Finish(done, "worker-2").reason(), "queue.lease_lost");
  ASSERT_TRUE(store->Finish(done, "worker-1").ok());
  EXPECT_EQ(StateOf(done.id), ScoreState::kDelivered);
  // Now u1's newer score can go.
  auto next = store->ClaimDue(10'000, 10, "worker-2", 30'000);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].id, done.user_id == "u1" ? a2.id : (*next)[0].id);
}

TEST_F(QueueStoreTest, ExpiredLeasesAreReclaimedAfterACrash) {
  auto a = Score("u1", 5, 5000);
  Enqueue(a);
  ASSERT_EQ(store->ClaimDue(2000, 10, "crashed-node", 1000)->size(), 1u);
  EXPECT_TRUE(store->ClaimDue(2500, 10, "node-2", 1000)->empty());
  auto reclaimed = store->ClaimDue(3500, 10, "node-2", 1000);
  ASSERT_EQ(reclaimed->size(), 1u);
  EXPECT_EQ((*reclaimed)[0].lease_owner, "node-2");
  ScoreRecord r = (*reclaimed)[0];
  r.state = ScoreState::kDelivered;
  EXPECT_EQ(store->Finish(r, "crashed-node").reason(), "queue.lease_lost");
  EXPECT_TRUE(store->Finish(r, "node-2").ok());
}

TEST_F(QueueStoreTest, ConcurrentClaimersNeverShareWork) {
  for (int i = 0; i < 200; ++i) Enqueue(Score("u" + std::to_string(i), i % 10, 5000));
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> got(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto c = store->ClaimDue(2000, 7, "w" + std::to_string(t), 60'000);
        if (!c.ok() || c->empty()) return;
        for (auto& r : *c) got[t].push_back(r.id);
        total += static_cast<int>(c->size());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total, 200);
  std::set<std::string> all;
  for (auto& v : got) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 200u);
}

TEST_F(QueueStoreTest, FailedScoresAreReplayableCountedAndPurged) {
  auto a = Score("u1", 5, 5000);
  auto b = Score("u2", 6, 5000);
  Enqueue(a);
  Enqueue(b);
  auto claimed = *store->ClaimDue(2000, 10, "w", 30'000);
  for (auto r : claimed) {
    r.state = r.id == a.id ? ScoreState::kFailed : ScoreState::kDelivered;
    r.diagnosis = r.id == a.id ? "user is not a student in this course" : "";
    r.updated_at_ms = 3000;
    ASSERT_TRUE(store->Finish(r, "w").ok());
  }
  auto counts = store->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->by_state["failed"], 1);
  EXPECT_EQ(counts->by_state["delivered"], 1);
  EXPECT_EQ(counts->by_host_and_state["lms.test"]["failed"], 1);
  EXPECT_EQ(store->ListScores(ScoreState::kFailed, 10)->size(), 1u);
  EXPECT_EQ(*store->RetryFailed(std::nullopt, 4000), 1);
  EXPECT_EQ(StateOf(a.id), ScoreState::kQueued);
  EXPECT_EQ(store->GetScoreAnyTenant(a.id)->attempts, 0);
  EXPECT_EQ(*store->PurgeDelivered(3500), 1);
  EXPECT_EQ(store->GetScoreAnyTenant(b.id).status().reason(), "score.unknown");
  auto last = store->LastDelivered(a.CoalescingKey());
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->has_value());
}

TEST_F(QueueStoreTest, AuditChainRecordsWhoGradedAndDetectsTampering) {
  auto a = Score("u1", 5, 5000);
  Enqueue(a);
  auto correction = Score("u1", 8, 6000);
  correction.graded_by = {"human", "instructor-7", ""};
  Enqueue(correction);
  auto entries = store->ReadAudit(0, 100);
  ASSERT_TRUE(entries.ok());
  ASSERT_GE(entries->size(), 4u);  // received, received, corrected, superseded
  EXPECT_EQ((*entries)[0].event, "score.received");
  EXPECT_EQ((*entries)[0].actor, "ai:grader/m1");
  bool corrected = false;
  for (const auto& e : *entries) {
    if (e.event == "score.corrected") {
      corrected = true;
      EXPECT_EQ(e.actor, "human:instructor-7");
      EXPECT_NE(e.detail.find("\"old\":5"), std::string::npos) << e.detail;
      EXPECT_NE(e.detail.find("\"new\":8"), std::string::npos) << e.detail;
    }
  }
  EXPECT_TRUE(corrected);
  EXPECT_TRUE(passback::VerifyAuditChain(*entries).ok);

  // Someone edits the database behind gradebridge's back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit_log SET detail = replace(detail, '5', '9') WHERE seq = 1", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto tampered = store->ReadAudit(0, 100);
  auto v = passback::VerifyAuditChain(*tampered);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 1);
}

TEST_F(QueueStoreTest, AcceptedScoresSurviveReopening) {
  auto a = Score("u1", 5, 5000);
  Enqueue(a);
  store.reset();
  store = test_util::OpenOrDie(path);
  EXPECT_EQ(StateOf(a.id), ScoreState::kQueued);
  EXPECT_EQ(*store->SchemaVersion(), SqliteStore::LatestSchemaVersion());
}

}  // namespace
}  // namespace gb::storage
