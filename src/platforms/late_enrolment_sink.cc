#include "platforms/late_enrolment_sink.h"

#include "base/log.h"
#include "lti/roles.h"

namespace gb::platforms {
namespace {

using passback::DeliveryResult;
using Kind = DeliveryResult::Kind;

std::string RoleList(const std::vector<std::string>& roles) {
  std::vector<std::string> names = lti::ContextRoleNames(lti::ParseRoles(roles));
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "no course role" : out;
}

}  // namespace

bool IsUnknownUserRefusal(std::string_view reason) {
  return reason == "ags.user_not_in_course" || reason == "ags.score_rejected";
}

LateEnrolmentGradeSink::LateEnrolmentGradeSink(passback::GradeSink& inner, RosterSource& roster)
    : inner_(inner), roster_(roster) {}

std::string LateEnrolmentGradeSink::RateKey(const lti::Registration& registration,
                                            const passback::ScoreRecord& score) const {
  return inner_.RateKey(registration, score);
}

DeliveryResult LateEnrolmentGradeSink::Deliver(const lti::Registration& registration,
                                               const passback::ScoreRecord& score,
                                               const passback::DeliveryOptions& options) {
  DeliveryResult first = inner_.Deliver(registration, score, options);
  if (first.kind != Kind::kPermanent || !IsUnknownUserRefusal(first.reason) || score.context_id.empty()) return first;

  auto answer = roster_.Resync(registration, score.context_id, score.user_id);
  if (!answer.ok()) {
    LogWarn("roster.recheck_failed", {{"score", score.id}, {"reason", answer.status().reason()}});
    const Code code = answer.status().code();
    if (code == Code::kUnavailable || code == Code::kDeadlineExceeded || code == Code::kResourceExhausted) {
      DeliveryResult retry = first;
      retry.kind = Kind::kRetry;
      retry.reason = answer.status().reason();
      retry.diagnosis = first.diagnosis + " The roster could not be re-read to check the user's enrolment (" +
                        answer.status().message() + "); trying again later.";
      return retry;
    }
    first.diagnosis += " (The roster could not be re-read to check the user's enrolment: " +
                       answer.status().message() + ")";
    return first;
  }
  LogInfo("roster.recheck", {{"score", score.id}, {"user", score.user_id}, {"context", score.context_id},
                             {"answer", RosterAnswerName(answer->kind)}, {"resynced", answer->resynced}});
  if (answer->kind == RosterAnswer::Kind::kActive) {
    DeliveryResult second = inner_.Deliver(registration, score, options);
    if (second.kind == Kind::kDelivered || second.kind == Kind::kAlreadyApplied) {
      std::string note = "delivered on a second try after a roster re-sync found user " + score.user_id +
                         " enrolled (late enrolment)";
      second.warning = second.warning.empty() ? note : second.warning + "; " + note;
      return second;
    }
    if (second.kind == Kind::kPermanent) {
      second.diagnosis += " The roster lists user " + score.user_id + " as an active member (" +
                          RoleList(answer->roles) +
                          "); only learners can be graded, so check the user's role in the course.";
    }
    return second;
  }
  DeliveryResult out = first;
  out.reason = "roster.not_enrolled";
  std::string listed;
  switch (answer->kind) {
    case RosterAnswer::Kind::kInactive: listed = "lists their enrolment as Inactive"; break;
    case RosterAnswer::Kind::kDeleted: listed = "shows they left the course"; break;
    default: listed = "does not list them"; break;
  }
  out.diagnosis = "User " + score.user_id + " is not enrolled in this context (late enrolment?): the platform " +
                  "refused the score and the course roster, re-read just now, " + listed +
                  ". Once they are enrolled, replay it with `gradebridge queue retry " + score.id +
                  "`. Platform's answer: " + first.diagnosis;
  return out;
}

}  // namespace gb::platforms
