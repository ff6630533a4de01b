// NrpsRosterSource against a scripted NRPS endpoint: one sync per burst, then a lookup.
#include "platforms/lti13/nrps_roster_source.h"

#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "lti/claims.h"
#include "lti/test_fakes.h"
#include "lti/test_http.h"

namespace gb::platforms {
namespace {

using nlohmann::json;

constexpr char kRoster[] = "https://moodle.school.edu/mod/lti/services.php/CourseSection/2/bindings/1/memberships";

class NrpsRosterSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_store_ = new lti::testing::MemoryKeys;
    key_clock_ = new FakeClock;
    ring_ = new lti::KeyRing(*key_store_, std::string(32, 'k'), *key_clock_, SecureRandom::Instance());
    ASSERT_TRUE(ring_->Load().ok());
  }
  static void TearDownTestSuite() {
    delete ring_;
    delete key_clock_;
    delete key_store_;
  }
  void SetUp() override {
    reg_.id = lti::RegistrationId("reg-moodle");
    reg_.issuer = "https://moodle.school.edu";
    reg_.client_id = "AbCdEf";
    reg_.deployment_ids = {"1"};
    reg_.auth_url = "https://moodle.school.edu/mod/lti/auth.php";
    reg_.token_url = "https://moodle.school.edu/mod/lti/token.php";
    reg_.jwks_url = "https://moodle.school.edu/mod/lti/certs.php";
    reg_.family = lti::PlatformFamily::kMoodle;
    members_.launch_urls[lti::testing::MemoryMembers::Key(reg_.id, "2")] = kRoster;
    http_.SetHandler([this](const http::Request& req) -> Result<http::Response> {
      if (req.url == reg_.token_url) {
        return http::Response::Json(200, json{{"access_token", "tok"}, {"token_type", "Bearer"}, {"expires_in", 3600},
                                              {"scope", lti::kScopeNrps}}.dump());
      }
      ++roster_reads;
      json members = json::array();
      for (const auto& [id, status] : roster) members.push_back({{"user_id", id}, {"roles", {"Learner"}}, {"status", status}});
      return http::Response::Json(200, json{{"context", {{"id", "2"}}}, {"members", members}}.dump());
    });
  }

  static lti::testing::MemoryKeys* key_store_;
  static FakeClock* key_clock_;
  static lti::KeyRing* ring_;
  lti::Registration reg_;
  FakeClock clock_;
  lti::testing::ScriptedHttpClient http_;
  lti::ServiceTokenClient tokens_{http_, *ring_, clock_, SecureRandom::Instance()};
  lti::NrpsClient nrps_{http_, tokens_};
  lti::testing::MemoryMembers members_;
  lti::RosterSync sync_{nrps_, members_, clock_};
  NrpsRosterSource source_{sync_, members_, clock_};
  std::map<std::string, std::string> roster = {{"3", "Active"}, {"4", "Inactive"}};
  std::atomic<int> roster_reads{0};
};
lti::testing::MemoryKeys* NrpsRosterSourceTest::key_store_ = nullptr;
FakeClock* NrpsRosterSourceTest::key_clock_ = nullptr;
lti::KeyRing* NrpsRosterSourceTest::ring_ = nullptr;

TEST_F(NrpsRosterSourceTest, SyncsOncePerIntervalAndAnswersFromTheFreshRoster) {
  auto a = source_.Resync(reg_, "2", "3");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->kind, RosterAnswer::Kind::kActive);
  EXPECT_TRUE(a->resynced);
  EXPECT_EQ(a->roles, std::vector<std::string>{"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"});
  EXPECT_EQ(roster_reads, 1);

  // A burst: the sync moments ago is reused.
  auto b = source_.Resync(reg_, "2", "4");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, RosterAnswer::Kind::kInactive);
  EXPECT_FALSE(b->resynced);
  EXPECT_EQ(source_.Resync(reg_, "2", "nobody")->kind, RosterAnswer::Kind::kUnknown);
  EXPECT_EQ(roster_reads, 1);

  // Later: a late enrolment is found; the one who left is Deleted.
  clock_.Advance(std::chrono::seconds(31));
  roster = {{"3", "Active"}, {"9", "Active"}};
  auto c = source_.Resync(reg_, "2", "9");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, RosterAnswer::Kind::kActive);
  EXPECT_TRUE(c->resynced);
  EXPECT_EQ(roster_reads, 2);
  EXPECT_EQ(source_.Resync(reg_, "2", "4")->kind, RosterAnswer::Kind::kDeleted);
}

TEST_F(NrpsRosterSourceTest, AContextWithoutARosterUrlIsAnError) {
  auto r = source_.Resync(reg_, "other-course", "3");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "roster.no_memberships_url");
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(roster_reads, 0);
}

}  // namespace
}  // namespace gb::platforms
