// The dispatcher against a real queue (SQLite) and a scripted GradeSink.
#include "passback/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "storage/sqlite/sqlite_test_util.h"

namespace gb::passback {
namespace {

using Kind = DeliveryResult::Kind;
using std::chrono::milliseconds;

DeliveryResult Result(Kind kind, int status = 200) {
  DeliveryResult r;
  r.kind = kind;
  r.http_status = status;
  r.reason = "test";
  r.diagnosis = "scripted " + std::to_string(status);
  return r;
}

// A GradeSink that records what it was asked to deliver and answers with `answer`.
class ScriptedSink final : public GradeSink {
 public:
  std::function<DeliveryResult(const ScoreRecord&)> answer = [](const ScoreRecord&) { return Result(Kind::kDelivered); };

  std::string RateKey(const lti::Registration& reg, const ScoreRecord&) const override { return "lms.test " + reg.client_id; }
  DeliveryResult Deliver(const lti::Registration&, const ScoreRecord& score, const DeliveryOptions&) override {
    int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    DeliveryResult r = answer(score);
    --in_flight_;
    std::lock_guard lock(mu_);
    sent_.push_back(score);
    return r;
  }
  std::vector<ScoreRecord> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  int max_in_flight() const { return max_in_flight_; }
  std::atomic<int> in_flight_{0};

 private:
  mutable std::mutex mu_;
  std::vector<ScoreRecord> sent_;
  std::atomic<int> max_in_flight_{0};
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lti::Tenant t;
    t.id = lti::TenantId("t1");
    t.name = "school";
    t.api_key_hash = std::string(64, 'a');
    ASSERT_TRUE(store->AddTenant(t).ok());
    registration.id = lti::RegistrationId("r1");
    registration.tenant_id = t.id;
    registration.issuer = "https://lms.test";
    registration.client_id = "c1";
    registration.deployment_ids = {"d1"};
    registration.auth_url = "https://lms.test/auth";
    registration.token_url = "https://lms.test/token";
    registration.jwks_url = "https://lms.test/jwks";
    registration.family = lti::PlatformFamily::kMoodle;
    ASSERT_TRUE(store->AddRegistration(registration).ok());
  }

  ScoreRecord Score(const std::string& user, double given, int64_t ts_ms,
                    const std::string& grading = "FullyGraded") {
    ScoreRecord r;
    r.id = "s" + std::to_string(++next_id);
    r.tenant_id = lti::TenantId("t1");
    r.registration_id = registration.id;
    r.idempotency_key = "k-" + r.id;
    r.lineitem_url = "https://lms.test/lineitems/1/lineitem";
    r.user_id = user;
    r.score_given = given;
    r.score_maximum = 10;
    r.grading_progress = grading;
    r.graded_by = {"human", "teacher", ""};
    r.timestamp_ms = ts_ms;
    r.next_attempt_at_ms = clock.NowMillis();
    r.created_at_ms = clock.NowMillis();
    r.updated_at_ms = clock.NowMillis();
    return r;
  }
  void Enqueue(const ScoreRecord& r) { ASSERT_TRUE(store->EnqueueBatch({r}).ok()); }
  ScoreRecord Get(const std::string& id) { return *store->GetScoreAnyTenant(id); }

  storage::test_util::TempDir dir;
  std::unique_ptr<storage::SqliteStore> store = storage::test_util::OpenOrDie(dir.File("q.db"));
  lti::Registration registration;
  FakeClock clock;
  SeededRandom random{42};
  ScriptedSink sink;
  int next_id = 0;
};

TEST_F(DispatcherTest, ApplyResultMapsEachKindToItsState) {
  RetryPolicy policy;
  ScoreRecord r = Score("u1", 5, 1000);
  auto delivered = ApplyDeliveryResult(r, Result(Kind::kDelivered), policy, 5000, 100, random);
  EXPECT_EQ(delivered.state, ScoreState::kDelivered);
  EXPECT_EQ(delivered.attempts, 1);
  EXPECT_EQ(delivered.delivered_at_ms, 5000);

  auto already = ApplyDeliveryResult(r, Result(Kind::kAlreadyApplied, 409), policy, 5000, 100, random);
  EXPECT_EQ(already.state, ScoreState::kDelivered);  // Moodle's 409 "not newer" is not a failure
  EXPECT_NE(already.diagnosis.find("409"), std::string::npos);

  auto permanent = ApplyDeliveryResult(r, Result(Kind::kPermanent, 422), policy, 5000, 100, random);
  EXPECT_EQ(permanent.state, ScoreState::kFailed);
  EXPECT_EQ(permanent.diagnosis, "scripted 422");

  auto retry = ApplyDeliveryResult(r, Result(Kind::kRetry, 503), policy, 5000, 100, random);
  EXPECT_EQ(retry.state, ScoreState::kQueued);
  EXPECT_EQ(retry.attempts, 1);
  EXPECT_GE(retry.next_attempt_at_ms, 5000);
  EXPECT_LE(retry.next_attempt_at_ms, 5000 + policy.base.count());

  r.attempts = policy.max_attempts - 1;
  auto exhausted = ApplyDeliveryResult(r, Result(Kind::kRetry, 503), policy, 5000, 100, random);
  EXPECT_EQ(exhausted.state, ScoreState::kFailed);
  EXPECT_NE(exhausted.diagnosis.find("Gave up after 6 attempts"), std::string::npos);
  EXPECT_NE(exhausted.diagnosis.find("queue retry " + r.id), std::string::npos);

  auto throttled_result = Result(Kind::kThrottled, 429);
  throttled_result.retry_after_seconds = 7;
  auto throttled = ApplyDeliveryResult(r, throttled_result, policy, 5000, 100, random);
  EXPECT_EQ(throttled.state, ScoreState::kQueued);
  EXPECT_EQ(throttled.attempts, r.attempts);  // throttling spends no attempt
  EXPECT_GE(throttled.next_attempt_at_ms, 12'000);

  auto with_body = Result(Kind::kPermanent, 400);
  with_body.response_body = std::string(500, 'x');
  with_body.lineitem_url = "https://lms.test/lineitems/9";
  auto truncated = ApplyDeliveryResult(Score("u1", 1, 1), with_body, policy, 1, 100, random);
  EXPECT_LE(truncated.last_response.size(), 104u);
  EXPECT_EQ(truncated.lineitem_url, "https://lms.test/lineitems/9");
}

TEST_F(DispatcherTest, NonFinalProgressNeverClearsADeliveredFinalGrade) {
  ScoreRecord final_grade = Score("u1", 8, 1000);
  final_grade.state = ScoreState::kDelivered;
  final_grade.delivered_at_ms = 2000;
  ScoreRecord reopened = Score("u1", 0, 3000, "NotReady");
  reopened.score_given.reset();
  EXPECT_NE(ReasonNotToSend(reopened, registration, final_grade).find("would clear the final grade 8/10"),
            std::string::npos);
  EXPECT_EQ(ReasonNotToSend(reopened, registration, std::nullopt), "");
  EXPECT_EQ(ReasonNotToSend(Score("u1", 9, 4000), registration, final_grade), "");  // a new final grade goes
  // Canvas keeps the grade on PendingManual; Moodle does not.
  ScoreRecord manual = Score("u1", 5, 3000, "PendingManual");
  EXPECT_NE(ReasonNotToSend(manual, registration, final_grade), "");
  lti::Registration canvas = registration;
  canvas.family = lti::PlatformFamily::kCanvas;
  EXPECT_EQ(ReasonNotToSend(manual, canvas, final_grade), "");
}

TEST_F(DispatcherTest, FinalGradesOnlyAndCommentsFollowTheRegistration) {
  registration.final_grades_only = true;
  ScoreRecord progress = Score("u1", 3, 1000, "Pending");
  EXPECT_NE(ReasonNotToSend(progress, registration, std::nullopt).find("final grades only"), std::string::npos);
  EXPECT_EQ(ReasonNotToSend(Score("u1", 3, 1000), registration, std::nullopt), "");

  // Through a live dispatcher: the registration's stored policy decides.
  ASSERT_TRUE(store->UpdateRegistration(registration).ok());
  bool comment_sent = true;
  struct CommentSink final : GradeSink {
    bool* seen;
    std::vector<std::string> ids;
    std::string RateKey(const lti::Registration&, const ScoreRecord&) const override { return "k"; }
    DeliveryResult Deliver(const lti::Registration&, const ScoreRecord& s, const DeliveryOptions& o) override {
      *seen = o.include_comment;
      ids.push_back(s.id);
      return Result(Kind::kDelivered);
    }
  } comment_sink;
  comment_sink.seen = &comment_sent;
  Dispatcher d(*store, *store, comment_sink, clock, random);
  ScoreRecord pending = Score("u2", 3, 1000, "Pending");
  ScoreRecord final_grade = Score("u3", 4, 1000);
  final_grade.comment = "well done";
  Enqueue(pending);
  Enqueue(final_grade);
  ASSERT_EQ(*d.RunOnce(), 2);
  EXPECT_EQ(Get(pending.id).state, ScoreState::kSuperseded);
  EXPECT_EQ(Get(final_grade.id).state, ScoreState::kDelivered);
  EXPECT_EQ(comment_sink.ids, std::vector<std::string>{final_grade.id});
  EXPECT_FALSE(comment_sent);  // comments stay home by default

  registration.send_comments = true;
  ASSERT_TRUE(store->UpdateRegistration(registration).ok());
  Dispatcher fresh(*store, *store, comment_sink, clock, random);  // no cached registration
  ScoreRecord later = Score("u3", 5, 2000);
  later.comment = "even better";
  Enqueue(later);
  ASSERT_EQ(*fresh.RunOnce(), 1);
  EXPECT_TRUE(comment_sent);
}

TEST_F(DispatcherTest, RetriesTransientFailuresThenDelivers) {
  int calls = 0;
  sink.answer = [&](const ScoreRecord&) { return ++calls < 3 ? Result(Kind::kRetry, 503) : Result(Kind::kDelivered); };
  Dispatcher d(*store, *store, sink, clock, random);
  ScoreRecord s = Score("u1", 7, 1000);
  Enqueue(s);
  ASSERT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(Get(s.id).state, ScoreState::kQueued);
  EXPECT_EQ(*d.RunOnce(), 0);  // not due yet
  clock.Advance(std::chrono::seconds(2));
  ASSERT_EQ(*d.RunOnce(), 1);
  clock.Advance(std::chrono::seconds(5));
  ASSERT_EQ(*d.RunOnce(), 1);
  ScoreRecord done = Get(s.id);
  EXPECT_EQ(done.state, ScoreState::kDelivered);
  EXPECT_EQ(done.attempts, 3);
  // Every attempt and the outcome are in the audit trail.
  int attempts = 0, delivered = 0;
  auto audit = store->ReadAudit(0, 100);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit) {
    if (e.score_id != s.id) continue;
    attempts += e.event == "attempt";
    delivered += e.event == "delivered";
  }
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(delivered, 1);
}

TEST_F(DispatcherTest, PermanentErrorsFailAtOnceAndStayReplayable) {
  sink.answer = [](const ScoreRecord&) { return Result(Kind::kPermanent, 422); };
  Dispatcher d(*store, *store, sink, clock, random);
  ScoreRecord s = Score("u1", 7, 1000);
  Enqueue(s);
  ASSERT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(Get(s.id).state, ScoreState::kFailed);
  EXPECT_EQ(Get(s.id).last_http_status, 422);
  sink.answer = [](const ScoreRecord&) { return Result(Kind::kDelivered); };
  ASSERT_EQ(*store->RetryFailed(s.id, clock.NowMillis()), 1);
  ASSERT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(Get(s.id).state, ScoreState::kDelivered);
}

TEST_F(DispatcherTest, ARemovedRegistrationFailsWithAReason) {
  Dispatcher d(*store, *store, sink, clock, random);
  ScoreRecord s = Score("u1", 7, 1000);
  s.registration_id = lti::RegistrationId("gone");
  Enqueue(s);
  ASSERT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(Get(s.id).state, ScoreState::kFailed);
  EXPECT_NE(Get(s.id).diagnosis.find("no longer exists"), std::string::npos);
  EXPECT_TRUE(sink.sent().empty());
}

TEST_F(DispatcherTest, ProgressUpdateAfterAFinalGradeIsNotSent) {
  Dispatcher d(*store, *store, sink, clock, random);
  ScoreRecord final_grade = Score("u1", 8, 1000);
  Enqueue(final_grade);
  ASSERT_EQ(*d.RunOnce(), 1);
  ScoreRecord progress = Score("u1", 0, 2000, "Pending");
  progress.score_given.reset();
  Enqueue(progress);
  ASSERT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(sink.sent().size(), 1u);  // only the final grade left
  ScoreRecord kept = Get(progress.id);
  EXPECT_EQ(kept.state, ScoreState::kSuperseded);
  EXPECT_NE(kept.diagnosis.find("would clear the final grade"), std::string::npos);
  bool audited = false;
  auto audit = store->ReadAudit(0, 100);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit) audited |= e.score_id == progress.id && e.event == "not_sent";
  EXPECT_TRUE(audited);
}

TEST_F(DispatcherTest, ThreadedDeliveryKeepsEachUsersScoresInOrderAndDeliversAll) {
  SystemClock& wall = SystemClock::Instance();
  std::mutex order_mu;
  std::map<std::string, int64_t> last_ts;
  std::atomic<int> out_of_order{0};
  sink.answer = [&](const ScoreRecord& s) {
    std::this_thread::sleep_for(milliseconds(2));
    std::lock_guard lock(order_mu);
    if (s.timestamp_ms < last_ts[s.user_id]) ++out_of_order;
    last_ts[s.user_id] = s.timestamp_ms;
    return Result(Kind::kDelivered);
  };
  DispatcherOptions options;
  options.workers = 16;
  options.idle_poll = milliseconds(20);
  Dispatcher d(*store, *store, sink, wall, random, options);
  ASSERT_TRUE(d.Start().ok());
  std::vector<ScoreRecord> batch;
  for (int i = 0; i < 400; ++i) {
    ScoreRecord s = Score("u" + std::to_string(i % 20), i % 10, 1000 + i);
    s.next_attempt_at_ms = wall.NowMillis();
    batch.push_back(s);
  }
  ASSERT_TRUE(store->EnqueueBatch(batch).ok());
  d.Wake();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto counts = store->Counts();
    if (counts->by_state["queued"] == 0 && counts->by_state["delivering"] == 0) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  d.Stop();
  auto counts = *store->Counts();
  EXPECT_EQ(counts.by_state["queued"], 0);
  EXPECT_EQ(counts.by_state["delivering"], 0);
  EXPECT_EQ(counts.by_state["failed"], 0);
  // Coalescing may have superseded some queued scores; the rest were delivered, none lost.
  EXPECT_EQ(counts.by_state["delivered"] + counts.by_state["superseded"], 400);
  EXPECT_EQ(out_of_order.load(), 0);
  // Each user's newest score is what was delivered last.
  for (int u = 0; u < 20; ++u) EXPECT_EQ(last_ts["u" + std::to_string(u)], 1000 + 380 + u);
  EXPECT_LE(sink.max_in_flight(), static_cast<int>(options.rate.max_limit));
}

TEST_F(DispatcherTest, ThrottlingShrinksConcurrencyAndNothingFails) {
  SystemClock& wall = SystemClock::Instance();
  std::atomic<int> throttled{0};
  // The platform allows 3 concurrent requests and throttles beyond that.
  sink.answer = [&](const ScoreRecord&) {
    std::this_thread::sleep_for(milliseconds(3));
    if (sink.in_flight_.load() > 3) {
      ++throttled;
      auto r = Result(Kind::kThrottled, 403);
      return r;
    }
    return Result(Kind::kDelivered);
  };
  DispatcherOptions options;
  options.workers = 32;
  options.idle_poll = milliseconds(20);
  options.rate.initial_limit = 32;
  options.rate.throttle_pause = milliseconds(50);
  options.retry.throttle_pause = milliseconds(50);
  Dispatcher d(*store, *store, sink, wall, random, options);
  ASSERT_TRUE(d.Start().ok());
  std::vector<ScoreRecord> batch;
  for (int i = 0; i < 200; ++i) {
    ScoreRecord s = Score("u" + std::to_string(i), 5, 1000);
    s.next_attempt_at_ms = wall.NowMillis();
    batch.push_back(s);
  }
  ASSERT_TRUE(store->EnqueueBatch(batch).ok());
  d.Wake();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline && store->Counts()->by_state["delivered"] < 200) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  d.Stop();
  EXPECT_EQ(store->Counts()->by_state["delivered"], 200);
  EXPECT_GT(throttled.load(), 0);
  EXPECT_LT(d.RateState("lms.test c1").limit, 32);  // it learnt to back off
}

TEST_F(DispatcherTest, RestartReclaimsThisNodesInterruptedDeliveriesAtOnce) {
  ScoreRecord s = Score("u1", 7, 1000);
  s.next_attempt_at_ms = SystemClock::Instance().NowMillis();
  Enqueue(s);
  // An earlier incarnation of node-a leased it for ten minutes, then died.
  ASSERT_EQ(store->ClaimDue(SystemClock::Instance().NowMillis(), 10, "node-a/dead", 600'000)->size(), 1u);
  DispatcherOptions options;
  options.node_id = "node-a";
  options.workers = 2;
  options.idle_poll = milliseconds(20);
  Dispatcher d(*store, *store, sink, SystemClock::Instance(), random, options);
  ASSERT_TRUE(d.Start().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && Get(s.id).state != ScoreState::kDelivered) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  d.Stop();
  EXPECT_EQ(Get(s.id).state, ScoreState::kDelivered);
}

TEST_F(DispatcherTest, StopHandsBufferedWorkBack) {
  std::atomic<bool> release{false};
  sink.answer = [&](const ScoreRecord&) {
    while (!release) std::this_thread::sleep_for(milliseconds(1));
    return Result(Kind::kDelivered);
  };
  DispatcherOptions options;
  options.workers = 1;
  options.idle_poll = milliseconds(10);
  Dispatcher d(*store, *store, sink, SystemClock::Instance(), random, options);
  std::vector<ScoreRecord> batch;
  for (int i = 0; i < 5; ++i) {
    ScoreRecord s = Score("u" + std::to_string(i), 5, 1000);
    s.next_attempt_at_ms = SystemClock::Instance().NowMillis();
    batch.push_back(s);
  }
  ASSERT_TRUE(store->EnqueueBatch(batch).ok());
  ASSERT_TRUE(d.Start().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && d.stats().claimed < 2) std::this_thread::sleep_for(milliseconds(5));
  std::thread stopper([&] { d.Stop(); });
  std::this_thread::sleep_for(milliseconds(50));
  release = true;
  stopper.join();
  auto counts = *store->Counts();
  EXPECT_EQ(counts.by_state["delivering"], 0);  // nothing left leased to a stopped node
  EXPECT_EQ(counts.by_state["delivered"] + counts.by_state["queued"], 5);
  EXPECT_GE(counts.by_state["delivered"], 1);
}

}  // namespace
}  // namespace gb::passback
