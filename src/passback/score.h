// The score intent: what a tool asked gradebridge to put in a gradebook, fixed at acceptance.
// Plain data plus validation; storage and delivery live behind ports (queue_store.h).
//
// States (frozen; see docs/passback.md):
//   queued      accepted and durable, waiting for its next attempt
//   delivering  leased by a worker
//   delivered   the platform accepted it (or answered that a not-older value is already there)
//   superseded  a newer score for the same (registration, line item, user) replaced it before
//               delivery; it is never sent
//   failed      permanent error, or transient errors past the attempt limit; replayable
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lti/registration.h"

namespace gb::passback {

enum class ScoreState { kQueued, kDelivering, kDelivered, kSuperseded, kFailed };
std::string_view StateName(ScoreState state);
std::optional<ScoreState> ParseState(std::string_view name);

struct GradedBy {
  std::string kind;   // "human" | "ai" | "system"
  std::string id;     // who: an instructor id, an engine name, a job name
  std::string model;  // for "ai": the model/version that produced the grade
};

struct ScoreRecord {
  std::string id;
  lti::TenantId tenant_id;
  lti::RegistrationId registration_id;
  std::string idempotency_key;

  // Target. lineitem_url may be empty when only the line items container is known (the
  // dispatcher finds or creates the line item for resource_link_id and fills it in).
  std::string context_id;
  std::string resource_link_id;
  std::string lineitem_url;
  std::string lineitems_url;
  std::string user_id;
  std::string launch_id;  // when submitted against a launch
  // LTI 1.1 Basic Outcomes target: set (lis_result_sourcedid) only for scores of 1.1 launches,
  // whose lineitem_url then holds the lis_outcome_service_url. GradeSinks are chosen by this.
  std::string result_sourcedid;

  std::optional<double> score_given;
  std::optional<double> score_maximum;
  std::string activity_progress = "Completed";
  std::string grading_progress = "FullyGraded";
  std::string comment;
  GradedBy graded_by;
  int64_t timestamp_ms = 0;  // the grading time; fixed at acceptance, never at sending

  ScoreState state = ScoreState::kQueued;
  int attempts = 0;
  int64_t next_attempt_at_ms = 0;
  std::string lease_owner;
  int64_t lease_until_ms = 0;
  int last_http_status = 0;
  std::string last_response;  // truncated platform answer
  std::string diagnosis;      // plain language, for people
  std::string superseded_by;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t delivered_at_ms = 0;

  // The coalescing key: a newer score with the same key supersedes a queued older one.
  std::string CoalescingKey() const;
};

// Allowed AGS values (lti-digest §3.7).
bool IsActivityProgress(std::string_view v);
bool IsGradingProgress(std::string_view v);

struct ScorePolicy {
  bool allow_extra_credit = false;  // score_given above score_maximum

  // The acceptance policy of a registration (Registration::allow_extra_credit).
  static ScorePolicy For(const lti::Registration& registration);
};

// Checks a score before it is stored: finite, non-negative numbers; a maximum > 0 whenever a
// score is given; not above the maximum unless extra credit is allowed; known progress values;
// graded_by.kind known; bounded strings. kInvalidArgument with reasons "score.*".
Status ValidateScore(const ScoreRecord& score, const ScorePolicy& policy);

// A registration's passback policy as delivery applies it (DESIGN §7), for the dispatcher.
// False when the registration passes back final grades only and the score's grading_progress is
// not FullyGraded: such a score is kept (and audited) but must never be sent.
bool MaySend(const ScoreRecord& score, const lti::Registration& registration);
// The comment to put in the outbound AGS score: the score's comment when the registration sends
// comments and there is one, otherwise nullopt (no comment member; nothing the tool wrote leaves).
std::optional<std::string> OutboundComment(const ScoreRecord& score, const lti::Registration& registration);

}  // namespace gb::passback
