// The MemberStore (roster cache) part of the storage contract; see ports_contract.h.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "storage/contract/ports_contract.h"

namespace gb::storage::contract {
namespace {

using ::testing::ElementsAre;

constexpr char kLearner[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
constexpr char kInstructor[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
constexpr char kTa[] = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";

lti::Member M(std::string id, std::vector<std::string> roles, lti::MemberStatus status = lti::MemberStatus::kActive) {
  lti::Member m;
  m.user_id = std::move(id);
  m.roles = std::move(roles);
  m.status = status;
  return m;
}

lti::RosterState State(const std::string& registration, const std::string& context) {
  lti::RosterState st;
  st.registration_id = lti::RegistrationId(registration);
  st.context_id = context;
  st.memberships_url = "https://canvas.example.edu/api/lti/courses/" + context + "/names_and_roles";
  st.last_full_sync_at = 1000;
  st.last_sync_at = 1000;
  return st;
}

std::vector<std::string> Ids(const std::vector<lti::StoredMember>& members) {
  std::vector<std::string> out;
  for (const auto& m : members) out.push_back(m.member.user_id);
  return out;
}

}  // namespace

TEST_P(PortsContractTest, RosterMembersRoundTripWithAbsentPersonalFieldsAbsent) {
  lti::Tenant acme = AddTenant("acme");
  ASSERT_TRUE(s_.registrations->AddRegistration(MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42")).ok());
  EXPECT_FALSE(s_.members->GetRosterState(lti::RegistrationId("reg-1"), "c1")->has_value());
  lti::Member grace = M("u1", {kLearner});
  grace.name = "Grace Hopper";
  grace.email = "";  // sent, empty: kept as sent
  grace.lti11_legacy_user_id = "legacy-1";
  lti::Member ada = M("u2", {kInstructor, kTa}, lti::MemberStatus::kInactive);
  lti::RosterState st = State("reg-1", "c1");
  st.differences_url = "https://canvas.example.edu/diff?since=1";
  ASSERT_TRUE(s_.members->ApplyRosterSync(st, {grace, ada}, /*full=*/true, 1000).ok());

  auto state = s_.members->GetRosterState(lti::RegistrationId("reg-1"), "c1");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->memberships_url, st.memberships_url);
  EXPECT_EQ((*state)->differences_url, st.differences_url);
  EXPECT_EQ((*state)->last_full_sync_at, 1000);

  auto found = s_.members->FindMember(lti::RegistrationId("reg-1"), "c1", "u1");
  ASSERT_TRUE(found.ok() && found->has_value());
  const lti::Member& g = (*found)->member;
  EXPECT_EQ(g.roles, std::vector<std::string>{kLearner});
  EXPECT_EQ(g.status, lti::MemberStatus::kActive);
  EXPECT_EQ(g.name, "Grace Hopper");
  EXPECT_EQ(g.email, "");
  EXPECT_FALSE(g.given_name.has_value());
  EXPECT_FALSE(g.picture.has_value());
  EXPECT_EQ(g.lti11_legacy_user_id, "legacy-1");
  EXPECT_EQ((*found)->updated_at, 1000);
  auto a = s_.members->FindMember(lti::RegistrationId("reg-1"), "c1", "u2");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->member.roles, (std::vector<std::string>{kInstructor, kTa}));
  EXPECT_EQ((*a)->member.status, lti::MemberStatus::kInactive);
  EXPECT_FALSE((*a)->member.name.has_value());
  EXPECT_FALSE(s_.members->FindMember(lti::RegistrationId("reg-1"), "c1", "nobody")->has_value());
}

TEST_P(PortsContractTest, RosterFullSyncMarksMissingMembersDeletedAndDifferencesTouchOnlyTheirs) {
  lti::Tenant acme = AddTenant("acme");
  ASSERT_TRUE(s_.registrations->AddRegistration(MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42")).ok());
  const lti::RegistrationId reg("reg-1");
  lti::RosterState st = State("reg-1", "c1");
  ASSERT_TRUE(s_.members->ApplyRosterSync(st, {M("u1", {kLearner}), M("u2", {kLearner}), M("u3", {kLearner})}, true, 1000).ok());
  // Full: u2 is gone.
  st.last_full_sync_at = st.last_sync_at = 2000;
  ASSERT_TRUE(s_.members->ApplyRosterSync(st, {M("u1", {kLearner}), M("u3", {kLearner})}, true, 2000).ok());
  auto u2 = s_.members->FindMember(reg, "c1", "u2");
  ASSERT_TRUE(u2.ok() && u2->has_value());
  EXPECT_EQ((*u2)->member.status, lti::MemberStatus::kDeleted);
  EXPECT_EQ((*u2)->updated_at, 2000);
  // Differences: u4 added, u3 dropped; u1 untouched.
  st.last_sync_at = 3000;
  ASSERT_TRUE(s_.members->ApplyRosterSync(st, {M("u4", {kLearner}), M("u3", {}, lti::MemberStatus::kDeleted)}, false, 3000).ok());
  lti::MemberQuery active;
  active.status = lti::MemberStatus::kActive;
  auto rows = s_.members->ListMembers(reg, "c1", active);
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(Ids(*rows), ElementsAre("u1", "u4"));
  EXPECT_EQ(s_.members->FindMember(reg, "c1", "u1")->value().updated_at, 2000);
  lti::MemberQuery deleted;
  deleted.status = lti::MemberStatus::kDeleted;
  EXPECT_THAT(Ids(*s_.members->ListMembers(reg, "c1", deleted)), ElementsAre("u2", "u3"));
  // Current members only: Deleted ones are left out before the limit, not after.
  lti::MemberQuery current;
  current.current_only = true;
  current.limit = 2;
  EXPECT_THAT(Ids(*s_.members->ListMembers(reg, "c1", current)), ElementsAre("u1", "u4"));
  // A later full sync that brings u2 back re-activates them; an already Deleted member keeps its time.
  ASSERT_TRUE(s_.members->ApplyRosterSync(st, {M("u1", {kLearner}), M("u2", {kLearner}), M("u4", {kLearner})}, true, 4000).ok());
  EXPECT_EQ(s_.members->FindMember(reg, "c1", "u2")->value().member.status, lti::MemberStatus::kActive);
  EXPECT_EQ(s_.members->FindMember(reg, "c1", "u3")->value().updated_at, 3000);
  EXPECT_EQ(s_.members->GetRosterState(reg, "c1")->value().last_sync_at, 3000);
}

TEST_P(PortsContractTest, RosterIsScopedByRegistrationAndContextAndFiltersByWholeRole) {
  lti::Tenant acme = AddTenant("acme");
  ASSERT_TRUE(s_.registrations->AddRegistration(MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42")).ok());
  ASSERT_TRUE(s_.registrations->AddRegistration(MakeRegistration(acme, "reg-2", "https://canvas.example.edu", "43")).ok());
  const lti::RegistrationId r1("reg-1"), r2("reg-2");
  ASSERT_TRUE(s_.members->ApplyRosterSync(State("reg-1", "c1"), {M("u1", {kLearner}), M("t1", {kInstructor, kTa})}, true, 1).ok());
  ASSERT_TRUE(s_.members->ApplyRosterSync(State("reg-2", "c1"), {M("x9", {kLearner})}, true, 1).ok());
  ASSERT_TRUE(s_.members->ApplyRosterSync(State("reg-1", "c2"), {M("u7", {kLearner})}, true, 1).ok());
  // A full sync of reg-2/c1 never touches reg-1/c1.
  EXPECT_EQ(s_.members->FindMember(r1, "c1", "u1")->value().member.status, lti::MemberStatus::kActive);
  EXPECT_FALSE(s_.members->FindMember(r2, "c1", "u1")->has_value());
  EXPECT_FALSE(s_.members->FindMember(r1, "c2", "u1")->has_value());
  EXPECT_THAT(Ids(*s_.members->ListMembers(r2, "c1", {})), ElementsAre("x9"));

  lti::MemberQuery q;
  q.role = kInstructor;  // a prefix of kTa's URI must not match it, and vice versa
  EXPECT_THAT(Ids(*s_.members->ListMembers(r1, "c1", q)), ElementsAre("t1"));
  q.role = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instr";
  EXPECT_TRUE(s_.members->ListMembers(r1, "c1", q)->empty());
  q.role = kLearner;
  EXPECT_THAT(Ids(*s_.members->ListMembers(r1, "c1", q)), ElementsAre("u1"));
  lti::MemberQuery limited;
  limited.limit = 1;
  EXPECT_EQ(s_.members->ListMembers(r1, "c1", limited)->size(), 1u);

  auto states = s_.members->ListRosterStates(r1);
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 2u);
  EXPECT_EQ((*states)[0].context_id, "c1");

  // Unknown registration: nothing stored.
  EXPECT_EQ(s_.members->ApplyRosterSync(State("reg-404", "c1"), {M("u1", {})}, true, 1).reason(), "registration.unknown");
  // Removing a registration removes its roster.
  ASSERT_TRUE(s_.registrations->RemoveRegistration(r1).ok());
  EXPECT_FALSE(s_.members->GetRosterState(r1, "c1")->has_value());
  EXPECT_TRUE(s_.members->ListMembers(r1, "c1", {})->empty());
  EXPECT_THAT(Ids(*s_.members->ListMembers(r2, "c1", {})), ElementsAre("x9"));
}

TEST_P(PortsContractTest, RosterFindsTheNewestLaunchMembershipsUrlOfTheContext) {
  const lti::RegistrationId reg("reg-1");
  EXPECT_EQ(*s_.members->LatestLaunchMembershipsUrl(reg, "c1"), "");
  auto launch = [&](std::string id, std::string reg_id, std::string ctx, std::string url, int64_t at) {
    lti::StoredLaunch l;
    l.id = id;
    l.tenant_id = lti::TenantId("t-acme");
    l.registration_id = lti::RegistrationId(reg_id);
    l.launch_json = R"({"id":")" + id + R"(","context":{"id":")" + ctx + R"("},"nrps":)" +
                    (url.empty() ? std::string("null") : R"({"context_memberships_url":")" + url + R"("})") + "}";
    l.created_at = at;
    l.token_expires_at = at + 60;
    ASSERT_TRUE(s_.launches->SaveLaunch(l).ok());
  };
  launch("l1", "reg-1", "c1", "https://a.example/old", 100);
  launch("l2", "reg-1", "c1", "https://a.example/new", 200);
  launch("l3", "reg-1", "c1", "", 300);                        // no NRPS claim: skipped
  launch("l4", "reg-2", "c1", "https://b.example/other", 400);  // another registration
  launch("l5", "reg-1", "c2", "https://a.example/c2", 500);     // another context
  EXPECT_EQ(*s_.members->LatestLaunchMembershipsUrl(reg, "c1"), "https://a.example/new");
  EXPECT_EQ(*s_.members->LatestLaunchMembershipsUrl(reg, "c2"), "https://a.example/c2");
  EXPECT_EQ(*s_.members->LatestLaunchMembershipsUrl(reg, "c3"), "");
}

}  // namespace gb::storage::contract
