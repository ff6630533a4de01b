#include "passback/dispatcher.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_util.h"

namespace gb::passback {
namespace {

constexpr char kFinal[] = "FullyGraded";

std::string Truncate(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return text.substr(0, max_chars) + "…";
}

// Canvas keeps the grade on PendingManual (platforms.md); everywhere else only FullyGraded is safe.
bool KeepsDeliveredGrade(lti::PlatformFamily family, const std::string& grading_progress) {
  if (grading_progress == kFinal) return true;
  return family == lti::PlatformFamily::kCanvas && grading_progress == "PendingManual";
}

std::string WhenText(int64_t ms) { return FormatIso8601Millis(TimePoint(std::chrono::milliseconds(ms))); }

}  // namespace

ScoreRecord ApplyDeliveryResult(ScoreRecord r, const DeliveryResult& result, const RetryPolicy& policy,
                                int64_t now_ms, size_t max_response_chars, Random& random) {
  r.updated_at_ms = now_ms;
  r.last_http_status = result.http_status;
  r.last_response = Truncate(result.response_body, max_response_chars);
  if (!result.lineitem_url.empty()) r.lineitem_url = result.lineitem_url;
  using Kind = DeliveryResult::Kind;
  switch (result.kind) {
    case Kind::kDelivered:
    case Kind::kAlreadyApplied:
      ++r.attempts;
      r.state = ScoreState::kDelivered;
      r.delivered_at_ms = now_ms;
      r.next_attempt_at_ms = 0;
      r.diagnosis = result.kind == Kind::kDelivered
                        ? "Delivered."
                        : "The platform already holds this score or a newer one (HTTP " +
                              std::to_string(result.http_status) + "); nothing needed changing.";
      if (!result.warning.empty()) r.diagnosis += " Warning: " + result.warning;
      break;
    case Kind::kPermanent:
      ++r.attempts;
      r.state = ScoreState::kFailed;
      r.next_attempt_at_ms = 0;
      r.diagnosis = result.diagnosis;
      break;
    case Kind::kRetry:
      ++r.attempts;
      if (r.attempts >= policy.max_attempts) {
        r.state = ScoreState::kFailed;
        r.next_attempt_at_ms = 0;
        r.diagnosis = "Gave up after " + std::to_string(r.attempts) +
                      " attempts (replay with `gradebridge queue retry " + r.id + "`). Last: " + result.diagnosis;
      } else {
        r.state = ScoreState::kQueued;
        r.next_attempt_at_ms =
            now_ms + RetryDelay(policy, r.attempts, result.retry_after_seconds, random).count();
        r.diagnosis = "Attempt " + std::to_string(r.attempts) + " of " + std::to_string(policy.max_attempts) +
                      " failed; next try at " + WhenText(r.next_attempt_at_ms) + ". " + result.diagnosis;
      }
      break;
    case Kind::kThrottled: {
      // Throttling does not spend the attempt budget (retry.h); a little jitter spreads the
      // scores a pause released so they do not all hit the platform in the same millisecond.
      int64_t wait = result.retry_after_seconds ? int64_t{*result.retry_after_seconds} * 1000
                                                : policy.throttle_pause.count();
      r.state = ScoreState::kQueued;
      r.next_attempt_at_ms = now_ms + wait + static_cast<int64_t>(random.Uniform(250));
      r.diagnosis = "The platform is throttling requests; waiting until " + WhenText(r.next_attempt_at_ms) +
                    " (this does not count against the attempt limit). " + result.diagnosis;
      break;
    }
  }
  return r;
}

std::string ReasonNotToSend(const ScoreRecord& record, const lti::Registration& registration,
                            const std::optional<ScoreRecord>& last_delivered) {
  if (!MaySend(record, registration)) {
    return "Not sent: this registration passes back final grades only (gradingProgress FullyGraded), and this "
           "score's gradingProgress is " + record.grading_progress + ".";
  }
  if (KeepsDeliveredGrade(registration.family, record.grading_progress)) return "";
  if (!last_delivered || last_delivered->grading_progress != kFinal || !last_delivered->score_given) return "";
  std::string final_grade = FormatDecimal(*last_delivered->score_given);
  if (last_delivered->score_maximum) final_grade += "/" + FormatDecimal(*last_delivered->score_maximum);
  return "Not sent: gradingProgress " + record.grading_progress + " would clear the final grade " + final_grade +
         " delivered at " + WhenText(last_delivered->delivered_at_ms) + " (score " + last_delivered->id +
         "); the platform wipes a grade on a non-final progress update, so the final grade stands.";
}

Dispatcher::Dispatcher(QueueStore& queue, lti::RegistrationStore& registrations, GradeSink& sink, Clock& clock,
                       Random& random, DispatcherOptions options)
    : queue_(queue),
      registrations_(registrations),
      sink_(sink),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      rate_(options_.rate) {
  owner_ = options_.node_id + "/" + random_.Hex(6);
}

Dispatcher::~Dispatcher() { Stop(); }

Status Dispatcher::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::Ok();
  }
  GB_ASSIGN_OR_RETURN(int64_t recovered, queue_.RecoverLeases(options_.node_id + "/", owner_, clock_.NowMillis()));
  if (recovered > 0) {
    LogWarn("passback.leases_recovered", {{"count", recovered}, {"node", options_.node_id}});
  }
  std::lock_guard lock(mu_);
  started_ = true;
  stopping_ = false;
  claimer_ = std::thread([this] { ClaimLoop(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { WorkerLoop(); });
  return Status::Ok();
}

void Dispatcher::Wake() {
  std::lock_guard lock(mu_);
  wake_ = true;
  claim_cv_.notify_one();
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
    claim_cv_.notify_all();
    work_cv_.notify_all();
  }
  if (claimer_.joinable()) claimer_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
  std::vector<Buffered> left;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, items] : buffer_) {
      for (auto& item : items) left.push_back(std::move(item));
    }
    buffer_.clear();
    buffered_ = 0;
    started_ = false;
  }
  ReleaseToQueue(left, clock_.NowMillis());
}

DispatcherStats Dispatcher::stats() const {
  std::lock_guard lock(mu_);
  DispatcherStats s = stats_;
  s.buffered = static_cast<int64_t>(buffered_);
  return s;
}

RateKeyState Dispatcher::RateState(const std::string& key) const {
  std::lock_guard lock(mu_);
  return rate_.State(key);
}

Result<lti::Registration> Dispatcher::LookupRegistration(const lti::RegistrationId& id) {
  TimePoint now = clock_.Now();
  {
    std::lock_guard lock(registrations_mu_);
    auto it = registration_cache_.find(id.str());
    if (it != registration_cache_.end() && now - it->second.first < options_.registration_cache_ttl) {
      return it->second.second;
    }
  }
  Result<lti::Registration> found = registrations_.GetRegistration(id);
  // Transient store errors are not cached; a definite answer (found or removed) is.
  if (found.ok() || found.status().code() == Code::kNotFound) {
    std::lock_guard lock(registrations_mu_);
    registration_cache_.insert_or_assign(id.str(), std::make_pair(now, found));
  }
  return found;
}

std::string Dispatcher::RateKeyFor(const ScoreRecord& record) {
  Result<lti::Registration> registration = LookupRegistration(record.registration_id);
  if (!registration.ok()) return "registration:" + record.registration_id.str();
  return sink_.RateKey(*registration, record);
}

void Dispatcher::FinishOrLog(const ScoreRecord& record) {
  Status s = queue_.Finish(record, owner_);
  if (s.ok()) return;
  std::lock_guard lock(mu_);
  if (s.reason() == "queue.lease_lost") {
    ++stats_.lease_lost;
    LogWarn("passback.lease_lost", {{"score", record.id}});
  } else {
    // The lease runs out and the score is claimed again: the attempt is repeated, never lost.
    LogError("passback.finish_failed", {{"score", record.id}, {"error", s.ToString()}});
  }
}

Dispatcher::RateSignal Dispatcher::DeliverLeased(ScoreRecord record) {
  Result<lti::Registration> registration = LookupRegistration(record.registration_id);
  int64_t now_ms = clock_.NowMillis();
  if (!registration.ok()) {
    DeliveryResult result;
    if (registration.status().code() == Code::kNotFound) {
      result.kind = DeliveryResult::Kind::kPermanent;
      result.reason = "registration.unknown";
      result.diagnosis = "The registration this score was sent for (" + record.registration_id.str() +
                         ") no longer exists; re-add it and run `gradebridge queue retry " + record.id + "`.";
    } else {
      result.kind = DeliveryResult::Kind::kRetry;
      result.reason = registration.status().reason();
      result.diagnosis = "Reading the registration failed: " + registration.status().message();
    }
    std::lock_guard rlock(random_mu_);
    FinishOrLog(ApplyDeliveryResult(std::move(record), result, options_.retry, now_ms, options_.max_response_chars,
                                    random_));
    return {};
  }

  std::optional<ScoreRecord> last_delivered;
  if (!KeepsDeliveredGrade(registration->family, record.grading_progress)) {
    Result<std::optional<ScoreRecord>> last = queue_.LastDelivered(record.CoalescingKey());
    if (!last.ok()) {
      // Unsure whether a final grade is out there: do not risk wiping it; try again later.
      LogError("passback.last_delivered_failed", {{"score", record.id}, {"error", last.status().ToString()}});
      ReleaseToQueue({Buffered{record, "", clock_.Now()}}, now_ms + options_.retry.base.count());
      return {};
    }
    last_delivered = std::move(*last);
  }
  std::string reason = ReasonNotToSend(record, *registration, last_delivered);
  if (!reason.empty()) {
    record.state = ScoreState::kSuperseded;
    record.diagnosis = reason;
    record.updated_at_ms = now_ms;
    record.next_attempt_at_ms = 0;
    FinishOrLog(record);
    std::lock_guard lock(mu_);
    ++stats_.not_sent;
    return {};
  }

  DeliveryOptions delivery_options;
  delivery_options.include_comment = OutboundComment(record, *registration).has_value();
  DeliveryResult result = sink_.Deliver(*registration, record, delivery_options);
  RateSignal rate{AttemptSignal::kOtherFailure, result.retry_after_seconds, result.rate_limit_remaining,
                  result.request_cost};
  ScoreRecord outcome;
  {
    std::lock_guard rlock(random_mu_);
    outcome = ApplyDeliveryResult(std::move(record), result, options_.retry, clock_.NowMillis(),
                                  options_.max_response_chars, random_);
  }
  FinishOrLog(outcome);
  using Kind = DeliveryResult::Kind;
  std::lock_guard lock(mu_);
  ++stats_.attempts;
  switch (result.kind) {
    case Kind::kDelivered:
    case Kind::kAlreadyApplied:
      ++stats_.delivered;
      rate.signal = AttemptSignal::kSuccess;
      break;
    case Kind::kThrottled:
      ++stats_.throttled;
      rate.signal = AttemptSignal::kThrottled;
      break;
    case Kind::kRetry:
      outcome.state == ScoreState::kFailed ? ++stats_.failed : ++stats_.retried;
      break;
    case Kind::kPermanent:
      ++stats_.failed;
      break;
  }
  return rate;
}

void Dispatcher::ReleaseToQueue(const std::vector<Buffered>& items, int64_t next_attempt_at_ms) {
  if (items.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(items.size());
  for (const auto& item : items) ids.push_back(item.record.id);
  Status s = queue_.Release(ids, owner_, next_attempt_at_ms);
  if (!s.ok()) {
    // Their leases run out and they are claimed again; nothing is lost, only delayed.
    LogError("passback.release_failed", {{"count", ids.size()}, {"error", s.ToString()}});
    return;
  }
  std::lock_guard lock(mu_);
  stats_.released += static_cast<int64_t>(ids.size());
}

std::vector<Dispatcher::Buffered> Dispatcher::TakeStaleLocked(TimePoint now) {
  std::vector<Buffered> stale;
  auto budget = options_.lease / 4;
  for (auto it = buffer_.begin(); it != buffer_.end();) {
    auto paused = rate_.PausedUntil(it->first, now);
    bool key_stuck = paused && *paused - now > budget;
    auto& items = it->second;
    for (auto item = items.begin(); item != items.end();) {
      if (key_stuck || now - item->claimed_at > options_.lease / 2) {
        stale.push_back(std::move(*item));
        item = items.erase(item);
        --buffered_;
      } else {
        ++item;
      }
    }
    it = items.empty() ? buffer_.erase(it) : std::next(it);
  }
  return stale;
}

void Dispatcher::ClaimLoop() {
  const size_t max_buffered = static_cast<size_t>(std::max(1, options_.workers)) * 2;
  const size_t min_claim = std::max<size_t>(1, static_cast<size_t>(options_.claim_batch) / 4);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    TimePoint now = clock_.Now();
    std::vector<Buffered> stale = TakeStaleLocked(now);
    if (!stale.empty()) {
      // Hand them back due when their key's pause ends, not now: claiming them again at once
      // would only churn.
      std::map<std::string, std::vector<Buffered>> by_key;
      for (auto& b : stale) by_key[b.rate_key].push_back(std::move(b));
      lock.unlock();
      for (auto& [key, items] : by_key) {
        std::optional<TimePoint> until;
        {
          std::lock_guard relock(mu_);
          until = rate_.PausedUntil(key, now);
        }
        int64_t due = until ? std::chrono::duration_cast<std::chrono::milliseconds>(until->time_since_epoch()).count()
                            : clock_.NowMillis();
        ReleaseToQueue(items, due);
      }
      lock.lock();
      continue;
    }
    size_t room = max_buffered > buffered_ ? max_buffered - buffered_ : 0;
    if (room < std::min(min_claim, max_buffered)) {
      claim_cv_.wait_for(lock, options_.idle_poll);
      continue;
    }
    wake_ = false;
    int want = static_cast<int>(std::min<size_t>(room, static_cast<size_t>(options_.claim_batch)));
    lock.unlock();
    Result<std::vector<ScoreRecord>> claimed =
        queue_.ClaimDue(clock_.NowMillis(), want, owner_, options_.lease.count());
    std::vector<Buffered> fresh;
    if (!claimed.ok()) {
      LogError("passback.claim_failed", {{"error", claimed.status().ToString()}});
    } else {
      fresh.reserve(claimed->size());
      for (auto& record : *claimed) {
        std::string key = RateKeyFor(record);
        fresh.push_back(Buffered{std::move(record), std::move(key), clock_.Now()});
      }
    }
    lock.lock();
    for (auto& b : fresh) {
      std::string key = b.rate_key;
      buffer_[key].push_back(std::move(b));
      ++buffered_;
    }
    stats_.claimed += static_cast<int64_t>(fresh.size());
    if (!fresh.empty()) work_cv_.notify_all();
    if (claimed.ok() && static_cast<int>(claimed->size()) == want) continue;  // more may be due
    claim_cv_.wait_for(lock, options_.idle_poll, [this] { return wake_ || stopping_; });
  }
}

void Dispatcher::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    TimePoint now = clock_.Now();
    std::optional<TimePoint> earliest_pause_end;
    std::optional<Buffered> item;
    auto it = buffer_.upper_bound(next_key_);
    for (size_t n = 0; n < buffer_.size(); ++n, ++it) {
      if (it == buffer_.end()) it = buffer_.begin();
      if (rate_.TryAcquire(it->first, now)) {
        item = std::move(it->second.front());
        it->second.pop_front();
        next_key_ = it->first;
        if (it->second.empty()) buffer_.erase(it);
        break;
      }
      if (auto until = rate_.PausedUntil(it->first, now)) {
        earliest_pause_end = earliest_pause_end ? std::min(*earliest_pause_end, *until) : *until;
      }
    }
    if (!item) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle_poll);
      if (earliest_pause_end) {
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*earliest_pause_end - now) +
                                  std::chrono::milliseconds(1));
      }
      work_cv_.wait_for(lock, wait);
      continue;
    }
    --buffered_;
    ++stats_.in_flight;
    claim_cv_.notify_one();
    lock.unlock();
    RateSignal rate = DeliverLeased(std::move(item->record));
    lock.lock();
    rate_.Release(item->rate_key, rate.signal, clock_.Now(), rate.retry_after, rate.remaining, rate.cost);
    --stats_.in_flight;
    work_cv_.notify_all();
  }
}

Result<int> Dispatcher::RunOnce(int limit) {
  GB_ASSIGN_OR_RETURN(std::vector<ScoreRecord> claimed,
                      queue_.ClaimDue(clock_.NowMillis(), limit, owner_, options_.lease.count()));
  for (auto& record : claimed) DeliverLeased(std::move(record));
  return static_cast<int>(claimed.size());
}

}  // namespace gb::passback
