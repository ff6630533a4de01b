#include "passback/score.h"

#include <gtest/gtest.h>

#include <limits>

namespace gb::passback {
namespace {

ScoreRecord Valid() {
  ScoreRecord s;
  s.user_id = "learner1";
  s.score_given = 7;
  s.score_maximum = 10;
  s.graded_by = {"ai", "essay-grader", "model-2026-10"};
  return s;
}

std::string Reason(const ScoreRecord& s, ScorePolicy p = {}) { return ValidateScore(s, p).reason(); }

TEST(ScoreValidationTest, AcceptsAWellFormedScore) { EXPECT_TRUE(ValidateScore(Valid(), {}).ok()); }

TEST(ScoreValidationTest, RefusesNumbersThatCannotBeGrades) {
  auto s = Valid();
  s.score_given = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Reason(s), "score.not_finite");
  s.score_given = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Reason(s), "score.not_finite");
  s.score_given = -1;
  EXPECT_EQ(Reason(s), "score.negative");
  s = Valid();
  s.score_maximum.reset();
  EXPECT_EQ(Reason(s), "score.missing_maximum");
  s.score_maximum = 0;
  EXPECT_EQ(Reason(s), "score.bad_maximum");
  s.score_maximum = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Reason(s), "score.bad_maximum");
}

TEST(ScoreValidationTest, ExtraCreditOnlyWhenAllowed) {
  auto s = Valid();
  s.score_given = 11;
  EXPECT_EQ(Reason(s), "score.above_maximum");
  EXPECT_TRUE(ValidateScore(s, ScorePolicy{true}).ok());
}

TEST(ScoreValidationTest, ProgressOnlyScoresNeedNoNumbers) {
  ScoreRecord s;
  s.user_id = "u";
  s.activity_progress = "Submitted";
  s.grading_progress = "PendingManual";
  s.graded_by.kind = "system";
  EXPECT_TRUE(ValidateScore(s, {}).ok());
}

TEST(ScoreValidationTest, EnumsAndBounds) {
  auto s = Valid();
  s.activity_progress = "Done";
  EXPECT_EQ(Reason(s), "score.bad_activity_progress");
  s = Valid();
  s.grading_progress = "fullygraded";
  EXPECT_EQ(Reason(s), "score.bad_grading_progress");
  s = Valid();
  s.graded_by.kind = "robot";
  EXPECT_EQ(Reason(s), "score.bad_graded_by");
  s = Valid();
  s.user_id.clear();
  EXPECT_EQ(Reason(s), "score.missing_user");
  s = Valid();
  s.comment.assign(5000, 'x');
  EXPECT_EQ(Reason(s), "score.comment_too_long");
  s = Valid();
  s.idempotency_key.assign(201, 'k');
  EXPECT_EQ(Reason(s), "score.bad_idempotency_key");
}

TEST(ScoreTest, StatesRoundTripAndCoalescingKeyNamesTheColumnAndUser) {
  for (auto st : {ScoreState::kQueued, ScoreState::kDelivering, ScoreState::kDelivered, ScoreState::kSuperseded,
                  ScoreState::kFailed}) {
    EXPECT_EQ(ParseState(StateName(st)), st);
  }
  EXPECT_FALSE(ParseState("lost").has_value());
  auto a = Valid();
  a.registration_id = lti::RegistrationId("r1");
  a.lineitem_url = "https://lms.test/li/1";
  auto b = a;
  b.score_given = 3;
  EXPECT_EQ(a.CoalescingKey(), b.CoalescingKey());
  b.user_id = "learner2";
  EXPECT_NE(a.CoalescingKey(), b.CoalescingKey());
}


TEST(ScorePolicyTest, ExtraCreditFollowsTheRegistration) {
  lti::Registration reg;
  auto s = Valid();
  s.score_given = 11;
  EXPECT_EQ(Reason(s, ScorePolicy::For(reg)), "score.above_maximum");
  reg.allow_extra_credit = true;
  EXPECT_TRUE(ValidateScore(s, ScorePolicy::For(reg)).ok());
}

TEST(ScorePolicyTest, FinalGradesOnlyHoldsEveryNonFinalProgress) {
  lti::Registration reg;
  auto s = Valid();
  for (const char* p : {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}) {
    s.grading_progress = p;
    EXPECT_TRUE(MaySend(s, reg)) << p;
  }
  reg.final_grades_only = true;
  for (const char* p : {"Pending", "PendingManual", "Failed", "NotReady"}) {
    s.grading_progress = p;
    EXPECT_FALSE(MaySend(s, reg)) << p;
  }
  s.grading_progress = "FullyGraded";
  EXPECT_TRUE(MaySend(s, reg));
}

TEST(ScorePolicyTest, CommentsLeaveOnlyWhenTheRegistrationOptsIn) {
  lti::Registration reg;
  auto s = Valid();
  s.comment = "Strong argument, weak conclusion.";
  EXPECT_EQ(OutboundComment(s, reg), std::nullopt);
  reg.send_comments = true;
  EXPECT_EQ(OutboundComment(s, reg), "Strong argument, weak conclusion.");
  s.comment.clear();
  EXPECT_EQ(OutboundComment(s, reg), std::nullopt);
}

}  // namespace
}  // namespace gb::passback
