// The gradebook views: GET /sim/api/gradebook (JSON with per-user history) and GET /sim/gradebook.
#include "sim/gradebook.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/ags.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::ServiceWorld;

json Score(const std::string& user, std::optional<double> given, double max, const std::string& ts,
           const std::string& grading = "FullyGraded") {
  json s = {{"userId", user}, {"timestamp", ts}, {"gradingProgress", grading}, {"activityProgress", "Completed"}};
  if (given) {
    s["scoreGiven"] = *given;
    s["scoreMaximum"] = max;
  }
  return s;
}

TEST(Gradebook, SeedsTheCoupledQuizColumn) {
  FakeClock clock;
  Gradebook g(DefaultSeed(), clock);
  auto items = g.line_items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id, "1");
  EXPECT_EQ(items[0].label, "Quiz 1");
  EXPECT_EQ(items[0].score_maximum, 10);
  EXPECT_TRUE(items[0].coupled);
  LineItem next;
  next.label = "Next";
  next.score_maximum = 5;
  EXPECT_EQ(g.Create(next).id, "2");
  EXPECT_FALSE(g.Find("01"));
  EXPECT_FALSE(g.Find("abc"));
}

TEST(Gradebook, JsonShowsEveryUserWithValuesCountsAndHistory) {
  ServiceWorld w(Profile::kGeneric);
  std::string scores = ServiceWorld::Sub(w.LineItemUrl("1"), "/scores");
  auto post = [&](const json& s) { return w.Call("POST", scores, w.token(), s.dump(), kMediaScore).status; };
  ASSERT_EQ(post(Score("learner1", 27, 40, "2026-03-01T10:00:00.000Z")), 204);
  w.clock.Advance(std::chrono::seconds(5));
  ASSERT_EQ(post(Score("learner1", 36, 40, "2026-03-01T10:05:00.000Z")), 204);
  ASSERT_EQ(post(Score("learner1", 10, 40, "2026-03-01T09:00:00.000Z")), 409);  // stale: refused
  ASSERT_EQ(post(Score("learner2", 5, 10, "2026-03-01T10:00:00.000Z")), 204);
  ASSERT_EQ(post(Score("learner2", std::nullopt, 10, "2026-03-01T10:01:00.000Z", "Pending")), 204);

  auto resp = w.Call("GET", std::string(testing::kSimOrigin) + "/sim/api/gradebook", "");
  ASSERT_EQ(resp.status, 200);
  json g = json::parse(resp.body);
  EXPECT_EQ(g["course"]["id"], "1001");
  EXPECT_EQ(g["users"].size(), 5u);
  ASSERT_EQ(g["line_items"].size(), 1u);
  json quiz = g["line_items"][0];
  EXPECT_EQ(quiz["label"], "Quiz 1");
  json l1 = quiz["results"]["learner1"];
  EXPECT_DOUBLE_EQ(l1["resultScore"].get<double>(), 9);
  EXPECT_DOUBLE_EQ(l1["resultMaximum"].get<double>(), 10);
  EXPECT_EQ(l1["timestamp"], "2026-03-01T10:05:00.000Z");
  EXPECT_EQ(l1["gradingProgress"], "FullyGraded");
  EXPECT_EQ(l1["activityProgress"], "Completed");
  EXPECT_EQ(l1["scores_accepted"], 2);
  EXPECT_EQ(l1["scores_rejected_stale"], 1);
  EXPECT_EQ(l1["cleared"], false);
  ASSERT_EQ(l1["history"].size(), 2u);
  EXPECT_EQ(l1["history"][0]["timestamp"], "2026-03-01T10:00:00.000Z");
  EXPECT_DOUBLE_EQ(l1["history"][0]["resultScore"].get<double>(), 6.75);
  EXPECT_EQ(l1["history"][1]["scoreGiven"], 36);
  EXPECT_LT(l1["history"][0]["seq"].get<uint64_t>(), l1["history"][1]["seq"].get<uint64_t>());
  EXPECT_EQ(l1["history"][1]["client_id"], w.client_id());
  EXPECT_EQ(l1["history"][1]["received_at"], "2023-11-14T22:13:25.000Z");
  // The history is ordered by acceptance and its timestamps never go back: no rollback.
  for (const auto& [user, cell] : quiz["results"].items()) {
    std::string prev;
    for (const auto& h : cell["history"]) {
      EXPECT_GE(h["timestamp"].get<std::string>(), prev) << user;
      prev = h["timestamp"].get<std::string>();
    }
  }
  json l2 = quiz["results"]["learner2"];
  EXPECT_EQ(l2["resultScore"], nullptr);
  EXPECT_EQ(l2["cleared"], true);
  EXPECT_EQ(l2["gradingProgress"], "Pending");
  EXPECT_EQ(l2["history"][1]["scoreGiven"], nullptr);
  json untouched = quiz["results"]["learner3"];
  EXPECT_EQ(untouched["scores_accepted"], 0);
  EXPECT_EQ(untouched["resultScore"], nullptr);
  EXPECT_EQ(untouched["cleared"], false);
}

TEST(Gradebook, HtmlTableOfUsersByLineItems) {
  ServiceWorld w(Profile::kGeneric);
  auto created = w.Call("POST", w.LineItemsUrl(), w.token(),
                        json{{"label", "<Essay & more>"}, {"scoreMaximum", 40}}.dump(), kMediaLineItem);
  ASSERT_EQ(created.status, 201);
  std::string quiz_scores = ServiceWorld::Sub(w.LineItemUrl("1"), "/scores");
  ASSERT_EQ(w.Call("POST", quiz_scores, w.token(), Score("learner1", 27, 40, "2026-03-01T10:00:00.000Z").dump(),
                   kMediaScore)
                .status,
            204);
  ASSERT_EQ(w.Call("POST", quiz_scores, w.token(), Score("learner2", 5, 10, "2026-03-01T10:00:00.000Z").dump(),
                   kMediaScore)
                .status,
            204);
  ASSERT_EQ(w.Call("POST", quiz_scores, w.token(),
                   Score("learner2", std::nullopt, 10, "2026-03-01T10:00:01.000Z", "NotReady").dump(), kMediaScore)
                .status,
            204);
  auto page = w.Call("GET", std::string(testing::kSimOrigin) + "/sim/gradebook", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers.Get("Content-Type").value_or("").find("text/html"), std::string::npos);
  const std::string& b = page.body;
  EXPECT_NE(b.find("<table>"), std::string::npos);
  EXPECT_NE(b.find("Quiz 1"), std::string::npos);
  EXPECT_NE(b.find("&lt;Essay &amp; more&gt;"), std::string::npos) << "escaped";
  EXPECT_EQ(b.find("<Essay"), std::string::npos);
  EXPECT_NE(b.find("<b>6.75</b> / 10"), std::string::npos);
  EXPECT_NE(b.find("2026-03-01T10:00:00.000Z"), std::string::npos);
  EXPECT_NE(b.find("&mdash; cleared"), std::string::npos);
  EXPECT_NE(b.find("Grace Hopper"), std::string::npos);
}

}  // namespace
}  // namespace gb::sim
