// NRPS in the simulator: strict Accept and scope, paging with Link rel="next" in each profile's
// style, rel="differences" reporting run-time enrolments, deactivations and drops, role and rlid
// filters; and the roster's effect on AGS (only Active learners are gradable).
#include "sim/nrps.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "sim/ags.h"
#include "sim/lti_names.h"
#include "sim/roster.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::ServiceWorld;

json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

class SimNrpsTest : public ::testing::Test {
 protected:
  explicit SimNrpsTest(Profile profile = Profile::kGeneric) : w_(profile) {}
  std::string Url() const { return w_.world.platform->MembershipsUrl(w_.tool()); }
  const std::string& NrpsToken() {
    if (token_.empty()) token_ = w_.Token({lti::kScopeNrps});
    return token_;
  }
  http::Response Get(const std::string& url, std::string accept = kMediaMembershipContainer) {
    return w_.Call("GET", url, NrpsToken(), "", "", accept);
  }
  // Follows rel="next"; returns every member and the last differences link.
  std::vector<json> All(std::string url, std::string* differences = nullptr, int* pages = nullptr) {
    std::vector<json> members;
    int n = 0;
    for (; n < 50 && !url.empty(); ++n) {
      auto r = Get(url);
      EXPECT_EQ(r.status, 200) << r.body;
      const json body = Body(r);  // kept alive for the loop (range-for does not extend it)
      for (const auto& m : body["members"]) members.push_back(m);
      if (differences) *differences = http::FindLink(r.headers, "differences").value_or("");
      url = http::FindLink(r.headers, "next").value_or("");
    }
    if (pages) *pages = n;
    return members;
  }
  static std::set<std::string> Ids(const std::vector<json>& members) {
    std::set<std::string> out;
    for (const auto& m : members) out.insert(m.value("user_id", ""));
    return out;
  }
  http::Response Change(const json& body) {
    return w_.Post("/sim/api/roster", body.dump(), "application/json");
  }

  ServiceWorld w_;
  std::string token_;
};

TEST_F(SimNrpsTest, AFullRosterIsPagedWithNextAndCarriesADifferencesLink) {
  std::string diff;
  int pages = 0;
  auto members = All(Url() + "?limit=2", &diff, &pages);
  EXPECT_EQ(pages, 3);  // five seeded users, two per page
  EXPECT_EQ(Ids(members), (std::set<std::string>{"instructor", "learner1", "learner2", "learner3", "ta1"}));
  EXPECT_NE(diff.find("since=0"), std::string::npos) << diff;
  auto r = Get(Url());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), kMediaMembershipContainer);
  json body = Body(r);
  EXPECT_EQ(body["context"]["id"], "1001");
  json grace;
  for (const auto& m : body["members"]) {
    if (m["user_id"] == "learner1") grace = m;
  }
  EXPECT_EQ(grace["roles"], json::array({"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"}));
  EXPECT_EQ(grace["status"], "Active");
  EXPECT_EQ(grace["name"], "Grace Hopper");
  EXPECT_EQ(grace["email"], "grace.hopper@sim.example.edu");
}

TEST_F(SimNrpsTest, DifferencesReportEnrolmentsDeactivationsAndDrops) {
  std::string diff;
  All(Url(), &diff);
  ASSERT_FALSE(diff.empty());
  EXPECT_EQ(Change({{"action", "enrol"}, {"user_id", "late1"}}).status, 200);
  EXPECT_EQ(Change({{"action", "deactivate"}, {"user_id", "learner2"}}).status, 200);
  EXPECT_EQ(Change({{"action", "drop"}, {"user_id", "learner3"}}).status, 200);
  std::string next_diff;
  auto changes = All(diff, &next_diff);
  ASSERT_EQ(changes.size(), 3u);
  std::map<std::string, json> by_id;
  for (const auto& m : changes) by_id[m["user_id"]] = m;
  EXPECT_EQ(by_id["late1"]["status"], "Active");
  EXPECT_FALSE(by_id["late1"].contains("name"));  // enrolled without names: none are sent
  EXPECT_FALSE(by_id["late1"].contains("email"));
  EXPECT_EQ(by_id["learner2"]["status"], "Inactive");
  EXPECT_EQ(by_id["learner3"]["status"], "Deleted");
  // Nothing changed since: an empty answer; the full roster leaves the dropped member out.
  EXPECT_TRUE(All(next_diff).empty());
  auto full = Ids(All(Url()));
  EXPECT_TRUE(full.count("late1"));
  EXPECT_TRUE(full.count("learner2"));
  EXPECT_FALSE(full.count("learner3"));
  EXPECT_EQ(Get(Url() + "?since=99").status, 400);  // a token from the future
  EXPECT_EQ(Get(Url() + "?since=abc").status, 400);
}

TEST_F(SimNrpsTest, RoleAndRlidFilters) {
  EXPECT_EQ(Ids(All(Url() + "?role=Learner")), (std::set<std::string>{"learner1", "learner2", "learner3"}));
  EXPECT_EQ(Ids(All(Url() + "?role=" + PercentEncode("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"))),
            (std::set<std::string>{"instructor", "ta1"}));
  EXPECT_TRUE(All(Url() + "?role=Mentor").empty());
  auto linked = All(Url() + "?rlid=rl-quiz-1&role=Learner");
  ASSERT_EQ(linked.size(), 3u);
  EXPECT_EQ(linked[0]["message"][0][lti::kClaimMessageType], "LtiResourceLinkRequest");
  auto foreign = Get(Url() + "?rlid=not-a-link");
  EXPECT_EQ(foreign.status, 400);
  EXPECT_NE(foreign.body.find("rlid"), std::string::npos);
  EXPECT_EQ(Get(Url() + "?limit=0").status, 400);
  EXPECT_EQ(Get(Url() + "?limit=x").status, 400);
}

TEST_F(SimNrpsTest, AcceptTokenAndScopeAreChecked) {
  EXPECT_EQ(Get(Url(), "application/vnd.ims.lis.v2.lineitemcontainer+json").status, 406);
  EXPECT_EQ(Get(Url(), "*/*").status, 200);
  EXPECT_EQ(w_.Call("GET", Url(), "", "", "", kMediaMembershipContainer).status, 401);
  EXPECT_EQ(w_.Call("GET", Url(), "not-a-token", "", "", kMediaMembershipContainer).status, 401);
  // An AGS-only token does not read the roster.
  auto ags_only = w_.Call("GET", Url(), w_.token(), "", "", kMediaMembershipContainer);
  EXPECT_EQ(ags_only.status, 403);
  EXPECT_EQ(w_.Call("POST", Url(), NrpsToken(), "{}", "application/json", kMediaMembershipContainer).status, 405);
}

TEST_F(SimNrpsTest, OnlyActiveLearnersAreGradable) {
  Roster& roster = w_.platform().roster();
  EXPECT_TRUE(roster.IsGradableLearner("learner1"));
  EXPECT_FALSE(roster.IsGradableLearner("late1"));
  EXPECT_FALSE(roster.IsGradableLearner("instructor"));
  ASSERT_EQ(Change({{"action", "enrol"}, {"user_id", "late1"}, {"given_name", "Late"}, {"family_name", "Comer"}}).status, 200);
  EXPECT_TRUE(roster.IsGradableLearner("late1"));
  ASSERT_EQ(Change({{"action", "deactivate"}, {"user_id", "late1"}}).status, 200);
  EXPECT_FALSE(roster.IsGradableLearner("late1"));
  ASSERT_EQ(Change({{"action", "enrol"}, {"user_id", "late1"}}).status, 200);  // re-enrolled
  EXPECT_TRUE(roster.IsGradableLearner("late1"));
  ASSERT_EQ(Change({{"action", "drop"}, {"user_id", "learner1"}}).status, 200);
  EXPECT_FALSE(roster.IsGradableLearner("learner1"));
  // Bad changes are refused with the reason.
  EXPECT_EQ(Change({{"action", "drop"}, {"user_id", "nobody"}}).status, 400);
  EXPECT_EQ(Change({{"action", "promote"}, {"user_id", "learner2"}}).status, 400);
  EXPECT_EQ(Change({{"action", "enrol"}, {"user_id", "x"}, {"role", "Dean"}}).status, 400);
  EXPECT_EQ(Change({{"action", "enrol"}, {"user_id", 7}}).status, 400);
  EXPECT_EQ(Change({{"action", "enrol"}, {"user_id", "x"}, {"extra", "y"}}).status, 400);
  EXPECT_EQ(w_.Post("/sim/api/roster", "{}", "text/plain").status, 415);
  auto listed = w_.Call("GET", std::string(testing::kSimOrigin) + "/sim/api/roster", "");
  EXPECT_EQ(Body(listed)["seq"], 4);
}

class SimNrpsMoodleTest : public SimNrpsTest {
 protected:
  SimNrpsMoodleTest() : SimNrpsTest(Profile::kMoodle) {}
};

TEST_F(SimNrpsMoodleTest, ShortRoleNamesCurlyQuoteLinksAndNoHandlerForWrongTypes) {
  auto r = Get(Url() + "?limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers.Get("Link").value_or("").find("rel=\u201cnext\u201d"), std::string::npos);
  std::set<std::string> roles;
  for (const auto& m : All(Url())) roles.insert(m["roles"][0].get<std::string>());
  EXPECT_EQ(roles, (std::set<std::string>{"Instructor", "Learner"}));
  auto wrong = Get(Url(), "application/json");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("No handler found"), std::string::npos);
}

}  // namespace
}  // namespace gb::sim
