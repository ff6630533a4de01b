#include "platforms/late_enrolment_sink.h"

#include <gtest/gtest.h>

#include <deque>

namespace gb::platforms {
namespace {

using passback::DeliveryResult;
using Kind = DeliveryResult::Kind;

DeliveryResult Outcome(Kind kind, std::string reason, std::string diagnosis = "") {
  DeliveryResult r;
  r.kind = kind;
  r.reason = std::move(reason);
  r.diagnosis = std::move(diagnosis);
  return r;
}

class ScriptedSink final : public passback::GradeSink {
 public:
  std::string RateKey(const lti::Registration&, const passback::ScoreRecord&) const override { return "host id"; }
  DeliveryResult Deliver(const lti::Registration&, const passback::ScoreRecord&,
                         const passback::DeliveryOptions&) override {
    ++calls;
    DeliveryResult r = script.front();
    if (script.size() > 1) script.pop_front();
    return r;
  }
  std::deque<DeliveryResult> script;
  int calls = 0;
};

class ScriptedRoster final : public RosterSource {
 public:
  gb::Result<RosterAnswer> Resync(const lti::Registration&, std::string_view context_id,
                                  std::string_view user_id) override {
    ++calls;
    last_context = std::string(context_id);
    last_user = std::string(user_id);
    return answer;
  }
  gb::Result<RosterAnswer> answer = RosterAnswer{};
  int calls = 0;
  std::string last_context, last_user;
};

class LateEnrolmentSinkTest : public ::testing::Test {
 protected:
  LateEnrolmentSinkTest() {
    score_.id = "sc-1";
    score_.user_id = "late1";
    score_.context_id = "course-7";
  }
  DeliveryResult Deliver() { return sink_.Deliver(registration_, score_, {}); }

  ScriptedSink inner_;
  ScriptedRoster roster_;
  LateEnrolmentGradeSink sink_{inner_, roster_};
  lti::Registration registration_;
  passback::ScoreRecord score_;
};

TEST_F(LateEnrolmentSinkTest, OtherResultsPassThroughWithoutARosterRead) {
  for (auto r : {Outcome(Kind::kDelivered, "ags.ok"), Outcome(Kind::kRetry, "http.timeout"),
                 Outcome(Kind::kPermanent, "ags.not_found"), Outcome(Kind::kThrottled, "ags.rate_limited")}) {
    inner_.script = {r};
    EXPECT_EQ(Deliver().reason, r.reason);
  }
  EXPECT_EQ(roster_.calls, 0);
  EXPECT_EQ(sink_.RateKey(registration_, score_), "host id");
  // No context: nothing to re-read.
  score_.context_id.clear();
  inner_.script = {Outcome(Kind::kPermanent, "ags.user_not_in_course")};
  EXPECT_EQ(Deliver().reason, "ags.user_not_in_course");
  EXPECT_EQ(roster_.calls, 0);
}

TEST_F(LateEnrolmentSinkTest, AUserTheResyncFindsIsSentAgainInTheSameAttempt) {
  inner_.script = {Outcome(Kind::kPermanent, "ags.user_not_in_course", "not a student"), Outcome(Kind::kDelivered, "ags.ok")};
  roster_.answer = RosterAnswer{RosterAnswer::Kind::kActive, {"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"}, true};
  DeliveryResult r = Deliver();
  EXPECT_EQ(r.kind, Kind::kDelivered);
  EXPECT_NE(r.warning.find("late enrolment"), std::string::npos);
  EXPECT_EQ(inner_.calls, 2);
  EXPECT_EQ(roster_.calls, 1);
  EXPECT_EQ(roster_.last_context, "course-7");
  EXPECT_EQ(roster_.last_user, "late1");
}

TEST_F(LateEnrolmentSinkTest, AnActiveMemberTheplatformStillRefusesGetsTheRosterRolesInTheDiagnosis) {
  inner_.script = {Outcome(Kind::kPermanent, "ags.user_not_in_course", "Platform said: not a student.")};
  roster_.answer = RosterAnswer{RosterAnswer::Kind::kActive, {"http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"}, true};
  DeliveryResult r = Deliver();
  EXPECT_EQ(r.kind, Kind::kPermanent);
  EXPECT_EQ(r.reason, "ags.user_not_in_course");
  EXPECT_NE(r.diagnosis.find("Instructor"), std::string::npos) << r.diagnosis;
  EXPECT_EQ(inner_.calls, 2);  // one second try, never more
}

TEST_F(LateEnrolmentSinkTest, AUserTheRosterDoesNotListFailsAsNotEnrolled) {
  for (auto kind : {RosterAnswer::Kind::kUnknown, RosterAnswer::Kind::kInactive, RosterAnswer::Kind::kDeleted}) {
    inner_.calls = 0;
    inner_.script = {Outcome(Kind::kPermanent, "ags.score_rejected", "Moodle refused the score: Incorrect score received")};
    roster_.answer = RosterAnswer{kind, {}, true};
    DeliveryResult r = Deliver();
    EXPECT_EQ(r.kind, Kind::kPermanent);
    EXPECT_EQ(r.reason, "roster.not_enrolled");
    EXPECT_NE(r.diagnosis.find("not enrolled in this context (late enrolment?)"), std::string::npos) << r.diagnosis;
    EXPECT_NE(r.diagnosis.find("Incorrect score received"), std::string::npos);  // the platform's words stay
    EXPECT_NE(r.diagnosis.find("queue retry sc-1"), std::string::npos);
    EXPECT_EQ(inner_.calls, 1);
  }
}

TEST_F(LateEnrolmentSinkTest, AnUnreadableRosterRetriesWhenTransientAndKeepsTheRefusalOtherwise) {
  inner_.script = {Outcome(Kind::kPermanent, "ags.user_not_in_course", "not a student")};
  roster_.answer = Error(Code::kUnavailable, "nrps.platform_unavailable", "the platform is down");
  DeliveryResult r = Deliver();
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_NE(r.diagnosis.find("the platform is down"), std::string::npos);

  roster_.answer = Error(Code::kFailedPrecondition, "roster.no_memberships_url", "no memberships URL");
  r = Deliver();
  EXPECT_EQ(r.kind, Kind::kPermanent);
  EXPECT_EQ(r.reason, "ags.user_not_in_course");
  EXPECT_NE(r.diagnosis.find("no memberships URL"), std::string::npos);
}

}  // namespace
}  // namespace gb::platforms
