#include "lti/roster_sync.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lti/claims.h"
#include "lti/test_fakes.h"
#include "lti/test_http.h"

namespace gb::lti {
namespace {

using nlohmann::json;

constexpr char kRoster[] = "https://school.instructure.com/api/lti/courses/7/names_and_roles";
constexpr char kDiff1[] = "https://school.instructure.com/api/lti/courses/7/names_and_roles?since=1";
constexpr char kDiff2[] = "https://school.instructure.com/api/lti/courses/7/names_and_roles?since=2";
constexpr char kLearner[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

json Member(const std::string& id, const std::string& status = "Active") {
  return {{"user_id", id}, {"roles", {"Learner"}}, {"status", status}};
}

std::string Page(json members, const std::string& context = "7") {
  return json{{"context", {{"id", context}}}, {"members", members}}.dump();
}

class RosterSyncTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_store_ = new testing::MemoryKeys;
    key_clock_ = new FakeClock;
    ring_ = new KeyRing(*key_store_, std::string(32, 'k'), *key_clock_, SecureRandom::Instance());
    ASSERT_TRUE(ring_->Load().ok());
  }
  static void TearDownTestSuite() {
    delete ring_;
    delete key_clock_;
    delete key_store_;
  }
  RosterSyncTest() {
    reg_.id = RegistrationId("reg-1");
    reg_.issuer = "https://canvas.instructure.com";
    reg_.client_id = "10000000000001";
    reg_.deployment_ids = {"dep-1"};
    reg_.auth_url = "https://sso.canvaslms.com/api/lti/authorize_redirect";
    reg_.token_url = "https://school.instructure.com/login/oauth2/token";
    reg_.jwks_url = "https://sso.canvaslms.com/api/lti/security/jwks";
    reg_.family = PlatformFamily::kCanvas;
    http_.Push(200, json{{"access_token", "tok"}, {"token_type", "Bearer"}, {"expires_in", 3600},
                         {"scope", kScopeNrps}}.dump());
  }
  std::string Status(const std::string& user) {
    auto m = members_.FindMember(reg_.id, "7", user);
    if (!m.ok() || !m->has_value()) return "unknown";
    return std::string(MemberStatusName((*m)->member.status));
  }
  std::vector<std::string> ServiceUrls() {
    std::vector<std::string> out;
    for (auto& r : http_.requests()) {
      if (r.url.find("/token") == std::string::npos) out.push_back(r.url);
    }
    return out;
  }

  static testing::MemoryKeys* key_store_;
  static FakeClock* key_clock_;
  static KeyRing* ring_;
  Registration reg_;
  FakeClock clock_;
  testing::ScriptedHttpClient http_;
  ServiceTokenClient tokens_{http_, *ring_, clock_, SecureRandom::Instance()};
  NrpsClient nrps_{http_, tokens_};
  testing::MemoryMembers members_;
  RosterSync sync_{nrps_, members_, clock_};
};
testing::MemoryKeys* RosterSyncTest::key_store_ = nullptr;
FakeClock* RosterSyncTest::key_clock_ = nullptr;
KeyRing* RosterSyncTest::ring_ = nullptr;

TEST_F(RosterSyncTest, FullSyncThenDifferencesThenFullMarksDepartures) {
  members_.launch_urls[testing::MemoryMembers::Key(reg_.id, "7")] = kRoster;
  http_.Push(200, Page(json::array({Member("u1"), Member("u2"), Member("u3", "Inactive")})),
             {{"Link", std::string("<") + kDiff1 + ">; rel=\"differences\""}});
  auto first = sync_.Sync(reg_, {"7", "", false});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->full);
  EXPECT_EQ(first->url_source, "launch");
  EXPECT_EQ(first->received, 3u);
  EXPECT_TRUE(first->differences_available);
  EXPECT_EQ(Status("u1"), "Active");
  EXPECT_EQ(Status("u3"), "Inactive");
  auto u1 = members_.FindMember(reg_.id, "7", "u1");
  EXPECT_EQ((*u1)->member.roles, std::vector<std::string>{kLearner});

  // Second sync: the stored differences link, verbatim; u4 joins, u2 is dropped.
  http_.Push(200, Page(json::array({Member("u4"), Member("u2", "Deleted")})),
             {{"Link", std::string("<") + kDiff2 + ">; rel=\"differences\""}});
  auto second = sync_.Sync(reg_, {"7", "", false});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->full);
  EXPECT_EQ(second->url_source, "stored");
  EXPECT_EQ(ServiceUrls().back(), kDiff1);
  EXPECT_EQ(Status("u4"), "Active");
  EXPECT_EQ(Status("u2"), "Deleted");
  EXPECT_EQ(Status("u1"), "Active");  // untouched by a differences sync
  EXPECT_EQ((*members_.GetRosterState(reg_.id, "7"))->differences_url, kDiff2);

  // Forced full: u1 is no longer listed and becomes Deleted.
  http_.Push(200, Page(json::array({Member("u3"), Member("u4")})));
  auto third = sync_.Sync(reg_, {"7", "", true});
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->full);
  EXPECT_EQ(third->marked_deleted, 1u);
  EXPECT_EQ(ServiceUrls().back(), kRoster);
  EXPECT_EQ(Status("u1"), "Deleted");
  EXPECT_EQ(Status("u3"), "Active");
  EXPECT_EQ((*members_.GetRosterState(reg_.id, "7"))->differences_url, "");
}

TEST_F(RosterSyncTest, ARefusedDifferencesLinkFallsBackToAFullSync) {
  http_.Push(200, Page(json::array({Member("u1")})), {{"Link", std::string("<") + kDiff1 + ">; rel=\"differences\""}});
  ASSERT_TRUE(sync_.Sync(reg_, {"7", kRoster, false}).ok());
  http_.Push(400, R"({"errors":[{"message":"Invalid differences token"}]})");
  http_.Push(200, Page(json::array({Member("u2")})));
  auto again = sync_.Sync(reg_, {"7", "", false});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->full);
  EXPECT_TRUE(again->fell_back_to_full);
  EXPECT_EQ(Status("u1"), "Deleted");
  EXPECT_EQ(Status("u2"), "Active");

  // A transient failure is reported as such, and nothing changes.
  http_.Push(503, "down");
  auto down = sync_.Sync(reg_, {"7", "", false});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EXPECT_EQ(Status("u2"), "Active");
}

TEST_F(RosterSyncTest, RefusesWithoutAUrlAndForAnotherContextsRoster) {
  auto none = sync_.Sync(reg_, {"7", "", false});
  EXPECT_EQ(none.status().reason(), "roster.no_memberships_url");
  EXPECT_EQ(sync_.Sync(reg_, {"", kRoster, false}).status().reason(), "roster.no_context");

  http_.Push(200, Page(json::array({Member("intruder")}), "8"));
  auto other = sync_.Sync(reg_, {"7", kRoster, false});
  EXPECT_EQ(other.status().reason(), "roster.context_mismatch");
  EXPECT_EQ(members_.applies, 0);
  EXPECT_EQ(Status("intruder"), "unknown");

  // Bad JSON from the platform stores nothing and says why.
  http_.Push(200, R"({"members":[{"user_id":"x","roles":"Learner"}]})");
  auto bad = sync_.Sync(reg_, {"7", kRoster, false});
  EXPECT_EQ(bad.status().reason(), "nrps.invalid_response");
  EXPECT_NE(bad.status().message().find("roles must be an array"), std::string::npos);
  EXPECT_EQ(members_.applies, 0);

  // A URL on a host the registration does not allow is never fetched.
  auto foreign = sync_.Sync(reg_, {"7", "https://evil.example.com/roster", false});
  EXPECT_EQ(foreign.status().reason(), "service.host_not_allowed");
}

TEST_F(RosterSyncTest, DuplicatesKeepTheLastAndProgressIsReported) {
  const std::string p2 = std::string(kRoster) + "?page=2";
  http_.Push(200, Page(json::array({Member("u1"), Member("u2")})), {{"Link", "<" + p2 + ">; rel=\"next\""}});
  http_.Push(200, Page(json::array({Member("u1", "Inactive")})));
  int calls = 0;
  auto r = sync_.Sync(reg_, {"7", kRoster, false}, [&](int pages, size_t n) {
    ++calls;
    EXPECT_EQ(static_cast<size_t>(pages), calls == 1 ? 1u : 2u);
    EXPECT_EQ(n, calls == 1 ? 2u : 3u);
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r->pages, 2);
  EXPECT_EQ(r->received, 2u);
  EXPECT_EQ(Status("u1"), "Inactive");
}

}  // namespace
}  // namespace gb::lti
