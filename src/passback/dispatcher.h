// Dispatcher: delivers queued scores through a GradeSink until each is delivered, superseded or
// failed (DESIGN §7; states in docs/passback.md).
//
// Threads: one claimer leases due scores from the QueueStore in batches and buffers them per
// rate key; `workers` threads take buffered scores round-robin across rate keys, whenever the
// RateController lets that key send, and deliver them one at a time (a delivery blocks on its
// HTTP calls; the HttpClient multiplexes them on its own I/O thread).
//
// Per attempt:
//   1. The registration is looked up (cached briefly); a removed one fails the score.
//   2. Policy, before anything is sent: a score that is not final is not sent when the
//      registration passes back final grades only (MaySend), nor when it would clear a final grade
//      already delivered for the same column and user (Canvas and Moodle wipe the grade on a
//      non-final gradingProgress). Such a score is closed as `superseded` with the reason.
//   3. GradeSink::Deliver, then the outcome is recorded with QueueStore::Finish (which appends
//      the audit entry in the same transaction): delivered / already applied -> delivered;
//      permanent -> failed; transient -> queued with backoff (RetryPolicy), or failed once the
//      attempt budget is spent; throttled -> queued after Retry-After, attempt budget untouched.
//
// Leases: claims are owned by "<node_id>/<boot id>". Start() first returns to the queue any
// lease an earlier incarnation of this node left behind (it crashed), so a restarted node does not
// wait out its own leases. Buffered scores a paused rate key cannot send within a quarter of the
// lease are handed back (QueueStore::Release) with their next attempt at the pause's end.
//
// Thread-safe. Stop() (also run by the destructor) stops claiming, lets deliveries in progress
// finish and hands buffered scores back.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "lti/ports.h"
#include "passback/grade_sink.h"
#include "passback/queue_store.h"
#include "passback/rate_control.h"
#include "passback/retry.h"

namespace gb::passback {

struct DispatcherOptions {
  std::string node_id = "node";
  int workers = 64;
  int claim_batch = 256;
  std::chrono::milliseconds lease{120'000};
  std::chrono::milliseconds idle_poll{250};        // queue check when nobody called Wake()
  std::chrono::seconds registration_cache_ttl{10};
  size_t max_response_chars = 2'000;
  RetryPolicy retry;
  RateControlOptions rate;
};

// What to store after one attempt: pure, for the dispatcher and its tests. `record` is the
// leased score; the result's state, attempts, next_attempt_at_ms, last_* fields, diagnosis,
// lineitem_url, delivered_at_ms and updated_at_ms are set from `result`.
ScoreRecord ApplyDeliveryResult(ScoreRecord record, const DeliveryResult& result, const RetryPolicy& policy,
                                int64_t now_ms, size_t max_response_chars, Random& random);

// Why this score must not be sent, or "" when it may be. `last_delivered`: the newest delivered
// score for the same coalescing key, if any.
std::string ReasonNotToSend(const ScoreRecord& record, const lti::Registration& registration,
                            const std::optional<ScoreRecord>& last_delivered);

struct DispatcherStats {
  int64_t claimed = 0;
  int64_t attempts = 0;
  int64_t delivered = 0;
  int64_t retried = 0;
  int64_t throttled = 0;
  int64_t failed = 0;
  int64_t not_sent = 0;
  int64_t released = 0;
  int64_t lease_lost = 0;
  int64_t buffered = 0;
  int64_t in_flight = 0;
};

class Dispatcher {
 public:
  Dispatcher(QueueStore& queue, lti::RegistrationStore& registrations, GradeSink& sink, Clock& clock,
             Random& random, DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Recovers this node's stale leases, then starts the claimer and the workers.
  Status Start();
  // New work may be due: claim now instead of at the next poll. Cheap; call after every enqueue.
  void Wake();
  void Stop();

  // Without threads: claims what is due now and delivers it on the calling thread, ignoring rate
  // control. Returns how many scores were attempted. For tests and one-shot CLI use.
  Result<int> RunOnce(int limit = 1000);

  DispatcherStats stats() const;
  RateKeyState RateState(const std::string& key) const;
  const std::string& owner() const { return owner_; }

 private:
  struct Buffered {
    ScoreRecord record;
    std::string rate_key;
    TimePoint claimed_at;
  };

  void ClaimLoop();
  void WorkerLoop();
  // Delivers one leased score and records the outcome; returns the signal for rate control.
  struct RateSignal {
    AttemptSignal signal = AttemptSignal::kOtherFailure;
    std::optional<int> retry_after;
    std::optional<double> remaining;
    std::optional<double> cost;
  };
  RateSignal DeliverLeased(ScoreRecord record);
  Result<lti::Registration> LookupRegistration(const lti::RegistrationId& id);
  std::string RateKeyFor(const ScoreRecord& record);
  void FinishOrLog(const ScoreRecord& record);
  // Under mu_: hands back buffered scores whose key stays paused beyond the lease budget.
  std::vector<Buffered> TakeStaleLocked(TimePoint now);
  void ReleaseToQueue(const std::vector<Buffered>& items, int64_t next_attempt_at_ms);

  QueueStore& queue_;
  lti::RegistrationStore& registrations_;
  GradeSink& sink_;
  Clock& clock_;
  Random& random_;
  std::mutex random_mu_;
  DispatcherOptions options_;
  std::string owner_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;    // workers: buffered work or a pause ended
  std::condition_variable claim_cv_;   // claimer: Wake() or room in the buffer
  bool wake_ = false;
  bool stopping_ = false;
  bool started_ = false;
  std::map<std::string, std::deque<Buffered>> buffer_;  // by rate key
  std::string next_key_;                                // round-robin cursor
  size_t buffered_ = 0;
  RateController rate_;
  DispatcherStats stats_;

  std::mutex registrations_mu_;
  std::map<std::string, std::pair<TimePoint, Result<lti::Registration>>> registration_cache_;

  std::thread claimer_;
  std::vector<std::thread> workers_;
};

}  // namespace gb::passback
