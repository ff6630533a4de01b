// Score POST rules per profile (shared/platforms.md A3, B4, C): one named test per rule.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/ags.h"
#include "sim/gradebook.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::ServiceWorld;

json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

json Score(const std::string& user, std::optional<double> given, std::optional<double> max, const std::string& ts,
           const std::string& grading = "FullyGraded", const std::string& activity = "Completed") {
  json s = {{"userId", user}, {"timestamp", ts}, {"gradingProgress", grading}, {"activityProgress", activity}};
  if (given) s["scoreGiven"] = *given;
  if (max) s["scoreMaximum"] = *max;
  return s;
}

struct Scorer {
  explicit Scorer(Profile p) : w(p) {}
  http::Response Post(const json& score, const std::string& item_id = "1") {
    return w.Call("POST", ServiceWorld::Sub(w.LineItemUrl(item_id), "/scores"), w.token(), score.dump(), kMediaScore);
  }
  std::optional<ResultRecord> Result(const std::string& user = "learner1") {
    return w.platform().gradebook().FindResult("1", user);
  }
  // The gradebook's value for the quiz (10 points), nullopt when no grade.
  std::optional<double> Value(const std::string& user = "learner1") {
    auto r = Result(user);
    auto item = w.platform().gradebook().Find("1");
    return r && item ? ScaledScore(*r, *item) : std::nullopt;
  }
  ServiceWorld w;
};

const char* kT0 = "2026-03-01T10:00:00.000Z";
const char* kT0Late = "2026-03-01T10:00:00.900Z";
const char* kT1 = "2026-03-01T10:00:01.000Z";

// --- Canvas ----------------------------------------------------------------------------------

TEST(CanvasScores, SuccessIs200WithAResultUrl) {
  Scorer s(Profile::kCanvas);
  auto r = s.Post(Score("learner1", 8, 10, kT0));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), std::string(kMediaScore) + "; charset=utf-8");
  EXPECT_EQ(Body(r)["resultUrl"], ServiceWorld::Sub(s.w.LineItemUrl("1"), "/results/1"));
  EXPECT_EQ(s.Value(), 8);
}

TEST(CanvasScores, StrictlyOlderTimestampIs400) {
  Scorer s(Profile::kCanvas);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT1)).status, 200);
  auto r = s.Post(Score("learner1", 3, 10, kT0));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Body(r)["errors"]["message"].get<std::string>().find("before last updated timestamp"), std::string::npos);
  EXPECT_EQ(s.Value(), 8) << "not rolled back";
  EXPECT_EQ(s.Result()->rejected_stale, 1u);
}

TEST(CanvasScores, EqualTimestampIsAccepted) {
  Scorer s(Profile::kCanvas);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT1)).status, 200);
  EXPECT_EQ(s.Post(Score("learner1", 9, 10, kT1)).status, 200) << "a retry with the same timestamp is safe";
  EXPECT_EQ(s.Value(), 9);
  EXPECT_EQ(s.Post(Score("learner1", 9, 10, "2026-03-01T11:00:01+01:00")).status, 200) << "the same instant";
}

TEST(CanvasScores, MissingScoreMaximumIs422) {
  Scorer s(Profile::kCanvas);
  auto r = s.Post(Score("learner1", 8, std::nullopt, kT0));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r), (json{{"errors",
                            {{"type", "unprocessable_entity"},
                             {"message", "ScoreMaximum not supplied when ScoreGiven present."}}}}));
}

TEST(CanvasScores, UserWhoIsNotAStudentIs422) {
  Scorer s(Profile::kCanvas);
  for (const char* user : {"instructor", "ta1", "nobody"}) {
    auto r = s.Post(Score(user, 8, 10, kT0));
    EXPECT_EQ(r.status, 422) << user;
    EXPECT_EQ(Body(r)["errors"]["message"], "User not found in course or is not a student");
  }
}

TEST(CanvasScores, NonFinalGradingProgressClearsTheGrade) {
  Scorer s(Profile::kCanvas);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0)).status, 200);
  for (const char* g : {"Pending", "Failed", "NotReady"}) {
    ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0)).status, 200);
    EXPECT_EQ(s.Value(), 8);
    ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0, g, "Submitted")).status, 200);
    EXPECT_EQ(s.Value(), std::nullopt) << g << " wipes the grade";
    EXPECT_TRUE(s.Result()->cleared());
  }
}

TEST(CanvasScores, PendingManualAppliesTheScore) {
  Scorer s(Profile::kCanvas);
  ASSERT_EQ(s.Post(Score("learner1", 6, 10, kT0, "PendingManual", "Submitted")).status, 200);
  EXPECT_EQ(s.Value(), 6);
}

TEST(CanvasScores, MissingScoreGivenClearsTheGrade) {
  Scorer s(Profile::kCanvas);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0)).status, 200);
  ASSERT_EQ(s.Post(Score("learner1", std::nullopt, std::nullopt, kT1)).status, 200);
  EXPECT_EQ(s.Value(), std::nullopt);
}

TEST(CanvasScores, PreserveScoreKeepsTheGradeOnAReset) {
  Scorer s(Profile::kCanvas);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0)).status, 200);
  json progress = Score("learner1", std::nullopt, std::nullopt, kT1, "Pending", "Started");
  progress["https://canvas.instructure.com/lti/submission"] = {{"preserve_score", true}};
  ASSERT_EQ(s.Post(progress).status, 200);
  EXPECT_EQ(s.Value(), 8);
  EXPECT_EQ(s.Result()->grading_progress, "Pending");
}

TEST(CanvasScores, ScoreMaximumAndScoreGivenRules) {
  Scorer s(Profile::kCanvas);
  EXPECT_EQ(s.Post(Score("learner1", 8, -1, kT0)).status, 422);
  EXPECT_EQ(s.Post(Score("learner1", 8, 0, kT0)).status, 422) << "0 when the line item's maximum is not";
  EXPECT_EQ(s.Post(Score("learner1", -1, 10, kT0)).status, 422);
  json text = Score("learner1", std::nullopt, 10, kT0);
  text["scoreGiven"] = "eight";
  EXPECT_EQ(s.Post(text).status, 400);
  EXPECT_EQ(s.Post(Score("learner1", 12, 10, kT0)).status, 200) << "extra credit is allowed";
  EXPECT_EQ(s.Value(), 12);
}

TEST(CanvasScores, RequiredParamsAndTimestampFormat) {
  Scorer s(Profile::kCanvas);
  for (const char* k : {"activityProgress", "gradingProgress", "timestamp"}) {
    json sc = Score("learner1", 8, 10, kT0);
    sc.erase(k);
    auto r = s.Post(sc);
    EXPECT_EQ(r.status, 400) << k;
    EXPECT_NE(r.body.find(k), std::string::npos);
  }
  auto bad = s.Post(Score("learner1", 8, 10, "yesterday"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("not a valid timestamp"), std::string::npos);
  EXPECT_EQ(s.Post(Score("learner1", 8, 10, "2026-03-01 10:00:00")).status, 400);
  EXPECT_EQ(s.Post(Score("learner1", 8, 10, kT0, "Graded")).status, 422);
  json future = Score("learner1", 8, 10, kT0);
  future["submission"] = {{"submittedAt", "2099-01-01T00:00:00Z"}};
  EXPECT_EQ(s.Post(future).status, 400);
}

// --- Moodle ----------------------------------------------------------------------------------

TEST(MoodleScores, SuccessIs200WithAnEmptyBody) {
  Scorer s(Profile::kMoodle);
  auto r = s.Post(Score("learner1", 8, 10, kT0));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(s.Value(), 8);
}

TEST(MoodleScores, StoredTimestampAtOrAfterTheNewOneIs409AtWholeSeconds) {
  Scorer s(Profile::kMoodle);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0)).status, 200);
  auto same_second = s.Post(Score("learner1", 9, 10, kT0Late));
  EXPECT_EQ(same_second.status, 409) << "10:00:00.900 is the same second as 10:00:00.000";
  EXPECT_NE(same_second.body.find("Refusing score with an earlier timestamp"), std::string::npos);
  EXPECT_EQ(s.Post(Score("learner1", 9, 10, kT0)).status, 409) << "equal is refused";
  EXPECT_EQ(s.Value(), 8);
  EXPECT_EQ(s.Post(Score("learner1", 9, 10, kT1)).status, 200);
  EXPECT_EQ(s.Value(), 9);
  EXPECT_EQ(s.Post(Score("learner1", 1, 10, kT0)).status, 409) << "older";
  EXPECT_EQ(s.Result()->rejected_stale, 3u);
}

TEST(MoodleScores, NonFullyGradedClearsTheGrade) {
  Scorer s(Profile::kMoodle);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT0)).status, 200);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT1, "PendingManual", "Submitted")).status, 200);
  EXPECT_EQ(s.Value(), std::nullopt) << "no PendingManual semantics on Moodle";
  EXPECT_TRUE(s.Result()->cleared());
}

TEST(MoodleScores, ScoreMaximumDefaultsToOne) {
  Scorer s(Profile::kMoodle);
  ASSERT_EQ(s.Post(Score("learner1", 0.5, std::nullopt, kT0)).status, 200);
  EXPECT_EQ(s.Value(), 5) << "0.5 of 1, scaled to the 10-point column";
}

TEST(MoodleScores, UserWhoIsNotGradableIs400) {
  Scorer s(Profile::kMoodle);
  for (const char* user : {"instructor", "ta1", "nobody"}) {
    auto r = s.Post(Score(user, 8, 10, kT0));
    EXPECT_EQ(r.status, 400) << user;
    EXPECT_EQ(r.body, "Incorrect score received");
  }
}

TEST(MoodleScores, MalformedScoresAre400) {
  Scorer s(Profile::kMoodle);
  EXPECT_EQ(s.Post(Score("learner1", 8, 10, "not-a-time")).status, 400);
  EXPECT_EQ(s.Post(Score("learner1", -2, 10, kT0)).status, 400);
  json no_user = Score("learner1", 8, 10, kT0);
  no_user.erase("userId");
  EXPECT_EQ(s.Post(no_user).status, 400);
  json text = Score("learner1", std::nullopt, 10, kT0);
  text["scoreGiven"] = "8";
  EXPECT_EQ(s.Post(text).status, 400);
  EXPECT_EQ(s.Result(), std::nullopt);
}

// --- generic and Brightspace -----------------------------------------------------------------

TEST(GenericScores, OlderTimestampIs409EqualIsAccepted) {
  Scorer s(Profile::kGeneric);
  ASSERT_EQ(s.Post(Score("learner1", 8, 10, kT1)).status, 204);
  EXPECT_EQ(s.Post(Score("learner1", 9, 10, kT1)).status, 204);
  auto stale = s.Post(Score("learner1", 1, 10, kT0));
  EXPECT_EQ(stale.status, 409);
  EXPECT_NE(stale.body.find("earlier timestamp"), std::string::npos) << stale.body;
  EXPECT_EQ(s.Value(), 9);
}

TEST(GenericScores, ScoreGivenMustBeAFiniteNumberNotBelowZeroWithAMaximum) {
  Scorer s(Profile::kGeneric);
  EXPECT_EQ(s.Post(Score("learner1", -0.5, 10, kT0)).status, 400);
  EXPECT_EQ(s.Post(Score("learner1", 5, std::nullopt, kT0)).status, 400);
  EXPECT_EQ(s.Post(Score("learner1", 5, 0, kT0)).status, 400);
  EXPECT_EQ(s.Post(Score("ta1", 5, 10, kT0)).status, 400);
  EXPECT_EQ(s.Post(Score("learner1", 5, 10, "2026-03-01T10:00:00")).status, 400) << "no time zone";
}

TEST(GenericScores, ConcurrentScoresKeepEveryUsersNewest) {
  Scorer s(Profile::kGeneric);
  const std::string token = s.w.token();
  const std::string scores = ServiceWorld::Sub(s.w.LineItemUrl("1"), "/scores");
  std::vector<std::thread> threads;
  for (const char* user : {"learner1", "learner2", "learner3"}) {
    threads.emplace_back([&, user] {
      for (int i = 0; i < 30; ++i) {
        char ts[64];
        std::snprintf(ts, sizeof ts, "2026-03-01T10:00:%02d.000Z", i);
        auto r = s.w.Call("POST", scores, token, Score(user, i % 11, 10, ts).dump(), kMediaScore);
        EXPECT_EQ(r.status, 204) << r.body;
        (void)s.w.platform().gradebook().ToJson();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const char* user : {"learner1", "learner2", "learner3"}) {
    auto r = s.Result(user);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->accepted, 30u);
    EXPECT_EQ(r->timestamp_text, "2026-03-01T10:00:29.000Z");
    EXPECT_EQ(s.Value(user), 29 % 11);
  }
}

TEST(BrightspaceScores, ScoresAboveTheMaximumAreCapped) {
  Scorer s(Profile::kBrightspace);
  auto created = s.w.Call("POST", s.w.LineItemsUrl(), s.w.token(),
                          json{{"label", "Lab"}, {"scoreMaximum", 20}}.dump(), kMediaLineItem);
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(s.Post(Score("learner1", 30, 20, kT0), "2").status, 204);
  auto r = s.w.platform().gradebook().FindResult("2", "learner1");
  ASSERT_TRUE(r);
  EXPECT_EQ(ScaledScore(*r, *s.w.platform().gradebook().Find("2")), 20);
}

}  // namespace
}  // namespace gb::sim
