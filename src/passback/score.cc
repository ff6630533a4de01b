#include "passback/score.h"

#include <array>
#include <cmath>

namespace gb::passback {
namespace {

constexpr std::array<std::string_view, 5> kStates = {"queued", "delivering", "delivered", "superseded", "failed"};
constexpr std::array<std::string_view, 5> kActivity = {"Initialized", "Started", "InProgress", "Submitted",
                                                      "Completed"};
constexpr std::array<std::string_view, 5> kGrading = {"FullyGraded", "Pending", "PendingManual", "Failed",
                                                     "NotReady"};

template <size_t N>
bool In(const std::array<std::string_view, N>& values, std::string_view v) {
  for (auto x : values) {
    if (x == v) return true;
  }
  return false;
}

Status Invalid(const char* reason, std::string message) {
  return Error(Code::kInvalidArgument, reason, std::move(message));
}

}  // namespace

ScorePolicy ScorePolicy::For(const lti::Registration& registration) {
  ScorePolicy policy;
  policy.allow_extra_credit = registration.allow_extra_credit;
  return policy;
}

bool MaySend(const ScoreRecord& score, const lti::Registration& registration) {
  return !registration.final_grades_only || score.grading_progress == "FullyGraded";
}

std::optional<std::string> OutboundComment(const ScoreRecord& score, const lti::Registration& registration) {
  if (!registration.send_comments || score.comment.empty()) return std::nullopt;
  return score.comment;
}

std::string_view StateName(ScoreState state) { return kStates[static_cast<size_t>(state)]; }

std::optional<ScoreState> ParseState(std::string_view name) {
  for (size_t i = 0; i < kStates.size(); ++i) {
    if (kStates[i] == name) return static_cast<ScoreState>(i);
  }
  return std::nullopt;
}

std::string ScoreRecord::CoalescingKey() const {
  // A Basic Outcomes cell is one sourcedid (one user on one resource link).
  if (!result_sourcedid.empty()) return registration_id.str() + "|bo:" + lineitem_url + "|" + result_sourcedid;
  // The line item is known either by URL or, before it is resolved, by its resource link.
  std::string target = !lineitem_url.empty() ? "li:" + lineitem_url : "rl:" + context_id + "/" + resource_link_id;
  return registration_id.str() + "|" + target + "|" + user_id;
}

bool IsActivityProgress(std::string_view v) { return In(kActivity, v); }
bool IsGradingProgress(std::string_view v) { return In(kGrading, v); }

Status ValidateScore(const ScoreRecord& s, const ScorePolicy& policy) {
  if (s.user_id.empty()) return Invalid("score.missing_user", "The score names no user.");
  if (s.user_id.size() > 255) return Invalid("score.bad_user", "user_id is longer than 255 characters.");
  if (s.score_given) {
    if (!std::isfinite(*s.score_given)) return Invalid("score.not_finite", "score_given must be a finite number.");
    if (*s.score_given < 0) return Invalid("score.negative", "score_given must not be negative.");
    if (!s.score_maximum) {
      return Invalid("score.missing_maximum",
                     "score_maximum is required with score_given (Canvas refuses scores without it; Moodle "
                     "silently assumes 1).");
    }
  }
  if (s.score_maximum) {
    if (!std::isfinite(*s.score_maximum) || *s.score_maximum <= 0) {
      return Invalid("score.bad_maximum", "score_maximum must be a finite number greater than 0.");
    }
    if (s.score_given && *s.score_given > *s.score_maximum && !policy.allow_extra_credit) {
      return Invalid("score.above_maximum",
                     "score_given is above score_maximum and this registration does not allow extra credit.");
    }
  }
  if (!IsActivityProgress(s.activity_progress)) {
    return Invalid("score.bad_activity_progress",
                   "activity_progress must be Initialized, Started, InProgress, Submitted or Completed.");
  }
  if (!IsGradingProgress(s.grading_progress)) {
    return Invalid("score.bad_grading_progress",
                   "grading_progress must be FullyGraded, Pending, PendingManual, Failed or NotReady.");
  }
  if (s.graded_by.kind != "human" && s.graded_by.kind != "ai" && s.graded_by.kind != "system") {
    return Invalid("score.bad_graded_by", "graded_by.kind must be human, ai or system.");
  }
  if (s.graded_by.id.size() > 255 || s.graded_by.model.size() > 255) {
    return Invalid("score.bad_graded_by", "graded_by fields are limited to 255 characters.");
  }
  if (s.comment.size() > 4096) return Invalid("score.comment_too_long", "comment is limited to 4096 bytes.");
  if (s.idempotency_key.size() > 200) {
    return Invalid("score.bad_idempotency_key", "The idempotency key is limited to 200 characters.");
  }
  return Status::Ok();
}

}  // namespace gb::passback
