// LateEnrolmentGradeSink: a GradeSink decorator that re-reads the roster once before a score for a
// user the platform does not know is declared undeliverable (DESIGN §2 flow 4, §7). Protocol-
// agnostic: it wraps any GradeSink and asks a RosterSource; the dispatcher is unchanged.
//
// When the wrapped sink's answer is permanent with a reason that means "this user is not (or not
// gradable) in the course" (IsUnknownUserRefusal: Canvas 422 "User not found in course or is not
// a student", Moodle 400 "Incorrect score received", Sakai "User does not belong to site", ...):
//   - the context's roster is re-synced (RosterSource::Resync);
//   - the user is now an Active member: the score is sent once more, within the same attempt (a
//     late enrolment that reached the platform after the first try is not counted as a failure);
//     if the platform still refuses, that answer stands, with what the roster says about the user
//     (e.g. a teacher) appended;
//   - the roster does not list them, or lists them Inactive or Deleted: the score fails
//     permanently with reason "roster.not_enrolled" and a diagnosis saying the user is "not
//     enrolled in this context (late enrolment?)", the platform's own words kept;
//   - the roster cannot be read: transiently -> kRetry (it is not yet known to be undeliverable);
//     otherwise the platform's refusal stands with a note why the roster was not checked.
// Every other result passes through untouched. Scores without a context id are not checked.
#pragma once

#include <string_view>

#include "passback/grade_sink.h"
#include "platforms/roster_source.h"

namespace gb::platforms {

// True for delivery reasons meaning the platform does not know the user in this course.
bool IsUnknownUserRefusal(std::string_view reason);

class LateEnrolmentGradeSink final : public passback::GradeSink {
 public:
  LateEnrolmentGradeSink(passback::GradeSink& inner, RosterSource& roster);

  std::string RateKey(const lti::Registration& registration, const passback::ScoreRecord& score) const override;
  passback::DeliveryResult Deliver(const lti::Registration& registration, const passback::ScoreRecord& score,
                                   const passback::DeliveryOptions& options) override;

 private:
  passback::GradeSink& inner_;
  RosterSource& roster_;
};

}  // namespace gb::platforms
