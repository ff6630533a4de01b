// AGS: line items (CRUD, filters, paging in each profile's Link style), authentication and
// scopes, Moodle's strict media types and ?type_id URLs, results and their scaling.
#include "sim/ags.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "sim/browser.h"
#include "sim/gradebook.h"
#include "sim/lti_names.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::ServiceWorld;

json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

json Item(const std::string& label, double max, json extra = json::object()) {
  json j = {{"label", label}, {"scoreMaximum", max}};
  j.update(extra);
  return j;
}

// Creates a line item and returns its id URL.
std::string Create(ServiceWorld& w, const json& item) {
  auto r = w.Call("POST", w.LineItemsUrl(), w.token(), item.dump(), kMediaLineItem);
  EXPECT_EQ(r.status, 201) << r.body;
  return Body(r).value("id", "");
}

json Score(const std::string& user, std::optional<double> given, double max, const std::string& ts,
           const std::string& grading = "FullyGraded", const std::string& activity = "Completed") {
  json s = {{"userId", user}, {"timestamp", ts}, {"gradingProgress", grading}, {"activityProgress", activity}};
  if (given) {
    s["scoreGiven"] = *given;
    s["scoreMaximum"] = max;
  }
  return s;
}

http::Response PostScore(ServiceWorld& w, const std::string& item_url, const json& score,
                         const std::string& content_type = kMediaScore) {
  return w.Call("POST", ServiceWorld::Sub(item_url, "/scores"), w.token(), score.dump(), content_type);
}

// Follows rel="next" from `url`, returning every page's body.
std::vector<json> AllPages(ServiceWorld& w, std::string url, std::vector<std::string>* links = nullptr) {
  std::vector<json> pages;
  for (int guard = 0; guard < 20 && !url.empty(); ++guard) {
    auto r = w.Call("GET", url, w.token());
    EXPECT_EQ(r.status, 200) << r.body;
    pages.push_back(Body(r));
    if (links) links->push_back(r.headers.Get("Link").value_or(""));
    url = http::FindLink(r.headers, "next").value_or("");
  }
  return pages;
}

const char* kT0 = "2026-03-01T10:00:00.000Z";
const char* kT1 = "2026-03-01T10:00:01.000Z";
const char* kT2 = "2026-03-01T10:00:02.000Z";

// --- line items ------------------------------------------------------------------------------

TEST(AgsLineItems, CreateGetUpdateDelete) {
  ServiceWorld w(Profile::kGeneric);
  auto created = w.Call("POST", w.LineItemsUrl(), w.token(),
                        Item("Essay", 40, {{"resourceId", "essay-1"}, {"tag", "grade"},
                                           {"https://tool.example/ext", {{"x", 1}}}})
                            .dump(),
                        kMediaLineItem);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers.Get("Content-Type").value_or(""), kMediaLineItem);
  json item = Body(created);
  std::string url = item.value("id", "");
  EXPECT_EQ(created.headers.Get("Location").value_or(""), url);
  EXPECT_EQ(url, w.LineItemUrl("2"));
  EXPECT_EQ(item["scoreMaximum"], 40);
  EXPECT_EQ(item["resourceId"], "essay-1");
  EXPECT_EQ(item["https://tool.example/ext"]["x"], 1) << "extensions are kept";

  auto got = w.Call("GET", url, w.token());
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Body(got)["label"], "Essay");

  auto put = w.Call("PUT", url, w.token(), Item("Essay (final)", 50, {{"tag", "grade"}}).dump(), kMediaLineItem);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Body(put)["label"], "Essay (final)");
  EXPECT_EQ(Body(w.Call("GET", url, w.token()))["scoreMaximum"], 50);

  EXPECT_EQ(w.Call("DELETE", url, w.token()).status, 204);
  EXPECT_EQ(w.Call("GET", url, w.token()).status, 404);
  EXPECT_EQ(w.Call("DELETE", url, w.token()).status, 404);
}

TEST(AgsLineItems, CreateRequiresLabelAndAPositiveScoreMaximum) {
  ServiceWorld w(Profile::kGeneric);
  auto post = [&](json j) { return w.Call("POST", w.LineItemsUrl(), w.token(), j.dump(), kMediaLineItem).status; };
  EXPECT_EQ(post({{"scoreMaximum", 10}}), 400);
  EXPECT_EQ(post({{"label", "  "}, {"scoreMaximum", 10}}), 400);
  EXPECT_EQ(post({{"label", "x"}}), 400);
  EXPECT_EQ(post({{"label", "x"}, {"scoreMaximum", 0}}), 400);
  EXPECT_EQ(post({{"label", "x"}, {"scoreMaximum", "10"}}), 400);
  EXPECT_EQ(post({{"label", "x"}, {"scoreMaximum", 10}, {"endDateTime", "tomorrow"}}), 400);
  EXPECT_EQ(post({{"label", "x"}, {"scoreMaximum", 10}, {"resourceLinkId", "rl-nope"}}), 404);
  EXPECT_EQ(post({{"label", "x"}, {"scoreMaximum", 10}, {"resourceLinkId", "rl-essay"}}), 201);
  EXPECT_EQ(w.Call("POST", w.LineItemsUrl(), w.token(), "not json", kMediaLineItem).status, 400);
}

TEST(AgsLineItems, CanvasAndMoodleCreateErrors) {
  ServiceWorld canvas(Profile::kCanvas);
  auto r = canvas.Call("POST", canvas.LineItemsUrl(), canvas.token(), Item("x", -1).dump(), "application/json");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Body(r)["errors"]["type"], "unprocessable_entity");
  ServiceWorld moodle(Profile::kMoodle);
  auto m = moodle.Call("POST", moodle.LineItemsUrl(), moodle.token(), Item("x", 5, {{"resourceLinkId", "rl-nope"}}).dump(),
                       kMediaLineItem);
  EXPECT_EQ(m.status, 403) << "Moodle: a link that is not the tool's";
}

TEST(AgsLineItems, FiltersByResourceLinkResourceIdAndTag) {
  ServiceWorld w(Profile::kGeneric);
  Create(w, Item("A", 10, {{"resourceId", "r1"}, {"tag", "grade"}, {"resourceLinkId", "rl-essay"}}));
  Create(w, Item("B", 10, {{"resourceId", "r1"}, {"tag", "originality"}}));
  Create(w, Item("C", 10, {{"resourceId", "r2"}, {"tag", "grade"}}));
  auto labels = [&](const std::string& query) {
    auto r = w.Call("GET", w.LineItemsUrl() + query, w.token());
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> out;
    for (const auto& i : Body(r)) out.insert(i.value("label", ""));
    return out;
  };
  EXPECT_EQ(labels(""), (std::set<std::string>{"Quiz 1", "A", "B", "C"}));
  EXPECT_EQ(labels("?resource_id=r1"), (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(labels("?tag=grade"), (std::set<std::string>{"A", "C"}));
  EXPECT_EQ(labels("?resource_link_id=rl-quiz-1"), (std::set<std::string>{"Quiz 1"}));
  EXPECT_EQ(labels("?resource_id=r1&tag=grade"), (std::set<std::string>{"A"}));
  EXPECT_EQ(labels("?resource_id=none"), (std::set<std::string>{}));
  auto r = w.Call("GET", w.LineItemsUrl(), w.token());
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), kMediaLineItemContainer);
  EXPECT_TRUE(Body(r).is_array()) << "the container is a JSON array";
}

TEST(AgsLineItems, CanvasPagesByTenWithCommaSeparatedLinksWithoutSpaces) {
  ServiceWorld w(Profile::kCanvas);
  for (int i = 0; i < 24; ++i) Create(w, Item("Item " + std::to_string(i), 10));  // + Quiz 1 = 25
  std::vector<std::string> links;
  auto pages = AllPages(w, w.LineItemsUrl(), &links);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].size(), 10u);
  EXPECT_EQ(pages[1].size(), 10u);
  EXPECT_EQ(pages[2].size(), 5u);
  std::set<std::string> ids;
  for (const auto& p : pages) {
    for (const auto& i : p) ids.insert(i.value("id", ""));
  }
  EXPECT_EQ(ids.size(), 25u);
  const std::string base = w.LineItemsUrl();
  EXPECT_EQ(links[1], "<" + base + "?page=2&per_page=10>; rel=\"current\",<" + base +
                          "?page=3&per_page=10>; rel=\"next\",<" + base + "?page=1&per_page=10>; rel=\"prev\",<" +
                          base + "?page=1&per_page=10>; rel=\"first\",<" + base +
                          "?page=3&per_page=10>; rel=\"last\"");
  EXPECT_EQ(links[2].find("rel=\"next\""), std::string::npos);
  // limit maps to per_page, capped at 100; an out-of-range page is [].
  auto big = w.Call("GET", base + "?limit=500", w.token());
  EXPECT_EQ(Body(big).size(), 25u);
  EXPECT_NE(big.headers.Get("Link").value_or("").find("per_page=100"), std::string::npos);
  EXPECT_EQ(Body(w.Call("GET", base + "?page=9", w.token())).size(), 0u);
}

TEST(AgsLineItems, MoodlePagesWithLimitFromAndCurlyQuotes) {
  ServiceWorld w(Profile::kMoodle);
  for (int i = 0; i < 4; ++i) Create(w, Item("Item " + std::to_string(i), 10));  // + Quiz 1 = 5
  // Without limit: everything, no Link header.
  auto all = w.Call("GET", w.LineItemsUrl(), w.token());
  EXPECT_EQ(Body(all).size(), 5u);
  EXPECT_FALSE(all.headers.Has("Link"));
  std::vector<std::string> links;
  auto pages = AllPages(w, w.LineItemsUrl() + "&limit=2", &links);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[2].size(), 1u);
  const std::string base = w.LineItemsUrl().substr(0, w.LineItemsUrl().find('?'));
  const std::string type = "type_id=" + w.tool().deployment_id;
  EXPECT_EQ(links[1], "<" + base + "?" + type + "&limit=2&from=0>; rel=\u201cfirst\u201d, <" + base + "?" + type +
                          "&limit=2&from=0>; rel=\u201cprev\u201d, <" + base + "?" + type +
                          "&limit=2&from=2>; rel=\u201ccanonical\u201d, <" + base + "?" + type +
                          "&limit=2&from=4>; rel=\u201cnext\u201d, <" + base + "?" + type +
                          "&limit=2&from=4>; rel=\u201clast\u201d");
  // Moodle's items carry resourceId/tag ("" when unset) and the legacy ltiLinkId.
  json quiz = pages[0][0];
  EXPECT_EQ(quiz["resourceId"], "");
  EXPECT_EQ(quiz["ltiLinkId"], "rl-quiz-1");
}

TEST(AgsLineItems, BrightspacePagesAt200) {
  ServiceWorld w(Profile::kBrightspace);
  for (int i = 0; i < 450; ++i) {
    auto r = w.Call("POST", w.LineItemsUrl(), w.token(), Item("I" + std::to_string(i), 10).dump(), kMediaLineItem);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  std::vector<std::string> links;
  auto pages = AllPages(w, w.LineItemsUrl() + "?limit=1000", &links);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].size(), 200u);
  EXPECT_EQ(pages[1].size(), 200u);
  EXPECT_EQ(pages[2].size(), 50u);
  EXPECT_NE(links[0].find("<" + w.LineItemsUrl() + "?limit=200&page=2>; rel=\"next\""), std::string::npos)
      << links[0];
  // D2L gives 1.3 links no grade item: the platform's Quiz 1 column is not the tool's.
  for (const auto& p : pages) {
    for (const auto& i : p) EXPECT_NE(i.value("label", ""), "Quiz 1");
  }
  EXPECT_EQ(w.Call("GET", w.LineItemUrl("1"), w.token()).status, 404);
}

TEST(AgsBrightspace, LaunchesCarryNoLineItemAndGuidIds) {
  ServiceWorld w(Profile::kBrightspace);
  EXPECT_EQ(w.client_id().size(), 36u);
  EXPECT_EQ(w.tool().deployment_id[8], '-');
  auto claims = w.platform().BuildClaims(w.world.Spec(), "n-1");
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  const json& ags = (*claims)[lti::kClaimAgsEndpoint];
  EXPECT_EQ(ags["lineitems"], w.LineItemsUrl());
  EXPECT_FALSE(ags.contains("lineitem")) << "D2L: LTI 1.3 links get no grade item";
  EXPECT_EQ((*claims)[lti::kClaimToolPlatform]["product_family_code"], "desire2learn");
  LaunchBrowser browser(w.world.client);
  auto out = browser.Launch(w.platform().LaunchUrl(w.world.Spec()));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status, 303) << out->body;
  EXPECT_EQ(w.world.tool.last_login_method, "POST");
}

TEST(AgsLineItems, ATool_SeesOnlyItsOwnAndThePlatformsLineItems) {
  for (Profile p : {Profile::kCanvas, Profile::kGeneric}) {
    ServiceWorld w(p);
    std::string mine = Create(w, Item("Mine", 10));
    auto other_tool = w.platform().RegisterTool(w.world.tool.Spec(p));
    ASSERT_TRUE(other_tool.ok());
    json c = w.Claims({}, other_tool->client_id);
    auto tr = w.TokenRequest(w.Sign(c), testing::AllServiceScopes()[0]);
    ASSERT_EQ(tr.status, 200) << tr.body;
    std::string other_token = Body(tr).value("access_token", "");
    std::string mine_for_other = w.platform().LineItemUrl(*other_tool, "2");
    auto r = w.Call("GET", mine_for_other, other_token);
    // Canvas: another developer key's line item is 412; elsewhere it does not exist.
    EXPECT_EQ(r.status, p == Profile::kCanvas ? 412 : 404) << r.body;
    auto list = Body(w.Call("GET", w.platform().LineItemsUrl(*other_tool), other_token));
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["label"], "Quiz 1");
  }
}

TEST(AgsLineItems, CanvasRefusesToDeleteACoupledLineItem) {
  ServiceWorld w(Profile::kCanvas);
  auto r = w.Call("DELETE", w.LineItemUrl("1"), w.token());
  EXPECT_EQ(r.status, 401) << r.body;
  std::string own = Create(w, Item("Own", 10));
  EXPECT_EQ(w.Call("DELETE", own, w.token()).status, 204);
}

// --- authentication and scopes ---------------------------------------------------------------

TEST(AgsAuth, MissingInvalidAndExpiredTokensAre401) {
  ServiceWorld w(Profile::kGeneric);
  auto none = w.Call("GET", w.LineItemsUrl(), "");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.headers.Get("WWW-Authenticate").value_or("").find("invalid_token"), std::string::npos);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), "forged-token").status, 401);
  std::string token = w.token();
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200);
  w.clock.Advance(std::chrono::seconds(3599));
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200);
  w.clock.Advance(std::chrono::seconds(1));
  auto expired = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
}

TEST(AgsAuth, CanvasAnswers401InItsErrorShape) {
  ServiceWorld w(Profile::kCanvas);
  std::string token = w.token();
  w.clock.Advance(std::chrono::hours(2));
  auto r = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r), (json{{"errors", {{"type", "unauthorized"}, {"message", "Access token expired"}}}}));
}

TEST(AgsAuth, ScopesSelectTheAllowedCalls) {
  ServiceWorld w(Profile::kGeneric);
  std::string readonly = w.Token({lti::kScopeLineItemReadOnly});
  std::string score_only = w.Token({lti::kScopeScore});
  std::string results_only = w.Token({lti::kScopeResultReadOnly});
  std::string quiz = w.LineItemUrl("1");
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), readonly).status, 200);
  EXPECT_EQ(w.Call("GET", quiz, readonly).status, 200);
  auto denied = w.Call("POST", w.LineItemsUrl(), readonly, Item("x", 1).dump(), kMediaLineItem);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.headers.Get("WWW-Authenticate").value_or("").find("insufficient_scope"), std::string::npos);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), score_only).status, 403);
  EXPECT_EQ(w.Call("POST", ServiceWorld::Sub(quiz, "/scores"), score_only,
                   Score("learner1", 5, 10, kT0).dump(), kMediaScore)
                .status,
            204);
  EXPECT_EQ(w.Call("GET", ServiceWorld::Sub(quiz, "/results"), score_only).status, 403);
  EXPECT_EQ(w.Call("GET", ServiceWorld::Sub(quiz, "/results"), results_only).status, 200);
  EXPECT_EQ(w.Call("POST", ServiceWorld::Sub(quiz, "/scores"), results_only,
                   Score("learner1", 5, 10, kT1).dump(), kMediaScore)
                .status,
            403);
}

TEST(AgsAuth, CanvasAndMoodleAnswer401ForAMissingScope) {
  for (Profile p : {Profile::kCanvas, Profile::kMoodle}) {
    ServiceWorld w(p);
    std::string score_only = w.Token({lti::kScopeScore});
    auto r = w.Call("GET", w.LineItemsUrl(), score_only);
    EXPECT_EQ(r.status, 401) << ProfileName(p) << ": " << r.body;
  }
}

TEST(AgsAuth, MethodsAndPaths) {
  ServiceWorld w(Profile::kGeneric);
  EXPECT_EQ(w.Call("GET", ServiceWorld::Sub(w.LineItemUrl("1"), "/scores"), w.token()).status, 405);
  EXPECT_EQ(w.Call("PATCH", w.LineItemUrl("1"), w.token()).status, 405);
  EXPECT_EQ(w.Call("GET", std::string(testing::kSimOrigin) + "/sim/api/lti/courses/999/line_items", w.token()).status,
            404);
  EXPECT_EQ(w.Call("GET", w.LineItemUrl("77"), w.token()).status, 404);
}

// --- Moodle: media types and ?type_id --------------------------------------------------------

TEST(AgsMoodle, ScoresUrlKeepsTheQueryAtTheEnd) {
  ServiceWorld w(Profile::kMoodle);
  std::string item = w.LineItemUrl("1");
  ASSERT_NE(item.find("?type_id="), std::string::npos);
  std::string scores = ServiceWorld::Sub(item, "/scores");
  EXPECT_EQ(scores, item.substr(0, item.find('?')) + "/scores" + item.substr(item.find('?')));
  auto ok = w.Call("POST", scores, w.token(), Score("learner1", 7, 10, kT0).dump(), kMediaScore);
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The classic mistake: "/scores" appended after the query string. Moodle's router finds no
  // resource for that path with a score type.
  auto wrong = w.Call("POST", item + "/scores", w.token(), Score("learner1", 8, 10, kT1).dump(), kMediaScore);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("No handler found"), std::string::npos) << wrong.body;
}

TEST(AgsMoodle, StrictMediaTypes) {
  ServiceWorld w(Profile::kMoodle);
  std::string scores = ServiceWorld::Sub(w.LineItemUrl("1"), "/scores");
  json s = Score("learner1", 7, 10, kT0);
  for (std::string type : {"application/json", "", kMediaLineItem}) {
    auto r = w.Call("POST", scores, w.token(), s.dump(), type);
    EXPECT_EQ(r.status, 400) << type;
    EXPECT_NE(r.body.find("No handler found"), std::string::npos) << r.body;
  }
  EXPECT_EQ(w.Call("POST", scores, w.token(), s.dump(), std::string(kMediaScore) + "; charset=utf-8").status, 200);
  // GET: Accept must be empty, contain */*, or be exactly one of the resource's types.
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), w.token(), "", "", "application/json").status, 400);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), w.token(), "", "",
                   std::string(kMediaLineItemContainer) + ", application/json")
                .status,
            400);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), w.token(), "", "", kMediaLineItemContainer).status, 200);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), w.token(), "", "", "*/*").status, 200);
  EXPECT_EQ(w.Call("GET", w.LineItemUrl("1"), w.token(), "", "", kMediaLineItemContainer).status, 400);
  EXPECT_EQ(w.Call("GET", ServiceWorld::Sub(w.LineItemUrl("1"), "/results"), w.token(), "", "",
                   kMediaResultContainer)
                .status,
            200);
  auto create = w.Call("POST", w.LineItemsUrl(), w.token(), Item("x", 3).dump(), "application/json");
  EXPECT_EQ(create.status, 400);
  // Media type first, then the method: GET on /scores is a 405.
  EXPECT_EQ(w.Call("GET", scores, w.token()).status, 405);
}

TEST(AgsMoodle, TypeIdMustNameTheTokensTool) {
  ServiceWorld w(Profile::kMoodle);
  std::string base = w.LineItemsUrl().substr(0, w.LineItemsUrl().find('?'));
  EXPECT_EQ(w.Call("GET", base, w.token()).status, 401);
  EXPECT_EQ(w.Call("GET", base + "?type_id=999", w.token()).status, 401);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), w.token()).status, 200);
}

TEST(AgsCanvas, LenientMediaTypes) {
  ServiceWorld w(Profile::kCanvas);
  std::string quiz = w.LineItemUrl("1");
  EXPECT_EQ(PostScore(w, quiz, Score("learner1", 5, 10, kT0), "application/json").status, 200);
  EXPECT_EQ(PostScore(w, quiz, Score("learner1", 5, 10, kT1), kMediaLineItem).status, 200);
  // Any other type leaves the parameters empty: a missing-parameter error.
  auto r = PostScore(w, quiz, Score("learner1", 5, 10, kT2), "text/plain");
  EXPECT_EQ(r.status, 422) << "userId is looked up first: " << r.body;
}

TEST(AgsGeneric, ScoreContentTypeMustBeTheScoreType) {
  ServiceWorld w(Profile::kGeneric);
  EXPECT_EQ(PostScore(w, w.LineItemUrl("1"), Score("learner1", 5, 10, kT0), "application/json").status, 415);
  EXPECT_EQ(PostScore(w, w.LineItemUrl("1"), Score("learner1", 5, 10, kT0)).status, 204);
}

// --- results ---------------------------------------------------------------------------------

TEST(AgsResults, ScaledToTheLineItemMaximum) {
  for (Profile p : {Profile::kGeneric, Profile::kMoodle}) {
    ServiceWorld w(p);
    std::string quiz = w.LineItemUrl("1");  // 10 points
    auto s = PostScore(w, quiz, Score("learner1", 27, 40, kT0));
    ASSERT_LT(s.status, 300) << s.body;
    auto r = w.Call("GET", ServiceWorld::Sub(quiz, "/results"), w.token());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), kMediaResultContainer);
    json results = Body(r);
    ASSERT_EQ(results.size(), 1u) << ProfileName(p);
    EXPECT_DOUBLE_EQ(results[0]["resultScore"].get<double>(), 6.75);
    EXPECT_DOUBLE_EQ(results[0]["resultMaximum"].get<double>(), 10);
    EXPECT_EQ(results[0]["userId"], "learner1");
    EXPECT_EQ(results[0]["scoreOf"], quiz);
    if (p == Profile::kMoodle) {
      EXPECT_EQ(results[0]["timestamp"], "2026-03-01T10:00:00+00:00");
      EXPECT_EQ(results[0]["id"], ServiceWorld::Sub(quiz, "/results") + "&user_id=learner1");
    }
  }
}

TEST(AgsResults, CanvasEchoesTheToolsScoreWhileTheGradebookShowsItScaled) {
  // Canvas's results serializer returns the score as posted (result_score / result_maximum);
  // only teacher-edited grades are rescaled (Lti::Result#scaled_result_score).
  ServiceWorld w(Profile::kCanvas);
  std::string quiz = w.LineItemUrl("1");
  auto s = PostScore(w, quiz, Score("learner1", 27, 40, kT0));
  ASSERT_EQ(s.status, 200) << s.body;
  json results = Body(w.Call("GET", ServiceWorld::Sub(quiz, "/results"), w.token()));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_DOUBLE_EQ(results[0]["resultScore"].get<double>(), 27);
  EXPECT_DOUBLE_EQ(results[0]["resultMaximum"].get<double>(), 40);
  auto cell = w.platform().gradebook().ToJson()["line_items"][0]["results"]["learner1"];
  EXPECT_DOUBLE_EQ(cell["resultScore"].get<double>(), 6.75);
  EXPECT_DOUBLE_EQ(cell["resultMaximum"].get<double>(), 10);
}

TEST(AgsResults, UserIdFilterAndPaging) {
  ServiceWorld w(Profile::kCanvas);
  std::string quiz = w.LineItemUrl("1");
  for (const char* u : {"learner1", "learner2", "learner3"}) ASSERT_EQ(PostScore(w, quiz, Score(u, 5, 10, kT0)).status, 200);
  std::string results = ServiceWorld::Sub(quiz, "/results");
  auto one = Body(w.Call("GET", results + "?user_id=learner2", w.token()));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["userId"], "learner2");
  EXPECT_EQ(Body(w.Call("GET", results + "?user_id=instructor", w.token())).size(), 0u) << "not a student: []";
  auto pages = AllPages(w, results + "?limit=1");
  EXPECT_EQ(pages.size(), 3u);
  // The resultUrl from the score POST answers too.
  std::string result_url = Body(PostScore(w, quiz, Score("learner1", 6, 10, kT1))).value("resultUrl", "");
  auto got = w.Call("GET", result_url, w.token());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Body(got)["resultScore"], 6);
}

}  // namespace
}  // namespace gb::sim
