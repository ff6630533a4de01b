// The storage contract tests; see ports_contract.h. Compiled into each adapter's test binary.
#include "storage/contract/ports_contract.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <set>
#include <thread>
#include <vector>

namespace gb::storage::contract {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

::testing::AssertionResult IsError(const Status& st, Code code, const std::string& reason) {
  if (!st.ok() && st.code() == code && st.reason() == reason) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << CodeName(code) << " \"" << reason << "\", got "
                                       << CodeName(st.code()) << " \"" << st.ToString() << "\"";
}

::testing::AssertionResult IsOk(const Status& st) {
  if (st.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << st.ToString();
}

template <typename T>
std::vector<std::string> RegistrationIds(const std::vector<T>& regs) {
  std::vector<std::string> ids;
  for (const auto& r : regs) ids.push_back(r.id.str());
  return ids;
}

std::vector<std::string> PassbackKeyIds(const std::vector<lti::PassbackKey>& keys) {
  std::vector<std::string> ids;
  for (const auto& k : keys) ids.push_back(k.id);
  return ids;
}

void ExpectSameRegistration(const lti::Registration& got, const lti::Registration& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.issuer, want.issuer);
  EXPECT_EQ(got.client_id, want.client_id);
  EXPECT_EQ(got.deployment_ids, want.deployment_ids);
  EXPECT_EQ(got.auth_url, want.auth_url);
  EXPECT_EQ(got.token_url, want.token_url);
  EXPECT_EQ(got.jwks_url, want.jwks_url);
  EXPECT_EQ(got.token_audience, want.token_audience);
  EXPECT_EQ(got.family, want.family);
  EXPECT_EQ(got.target_url, want.target_url);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.service_hosts, want.service_hosts);
  EXPECT_EQ(got.final_grades_only, want.final_grades_only);
  EXPECT_EQ(got.send_comments, want.send_comments);
  EXPECT_EQ(got.allow_extra_credit, want.allow_extra_credit);
}

void ExpectSameLaunch(const lti::StoredLaunch& got, const lti::StoredLaunch& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.registration_id, want.registration_id);
  EXPECT_EQ(got.launch_json, want.launch_json);
  EXPECT_EQ(got.token_hash, want.token_hash);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.token_expires_at, want.token_expires_at);
}

constexpr int kThreads = 8;

}  // namespace

void PortsContractTest::SetUp() {
  s_ = GetParam().make();
  ASSERT_TRUE(s_.tenants && s_.registrations && s_.nonces && s_.keys && s_.launches && s_.passback_keys);
}

void PortsContractTest::TearDown() { s_ = Stores(); }

lti::Tenant PortsContractTest::AddTenant(const std::string& name) {
  lti::Tenant t;
  t.id = lti::TenantId("t-" + name);
  t.name = name;
  t.api_key_hash = "hash-of-" + name;
  t.created_at = 1'700'000'000;
  EXPECT_TRUE(IsOk(s_.tenants->AddTenant(t)));
  return t;
}

lti::Registration PortsContractTest::MakeRegistration(const lti::Tenant& tenant, const std::string& id,
                                                      const std::string& issuer, const std::string& client_id) {
  lti::Registration r;
  r.id = lti::RegistrationId(id);
  r.tenant_id = tenant.id;
  r.issuer = issuer;
  r.client_id = client_id;
  r.deployment_ids = {"dep-1"};
  r.auth_url = issuer + "/auth";
  r.token_url = issuer + "/token";
  r.jwks_url = issuer + "/jwks";
  r.family = lti::PlatformFamily::kCanvas;
  r.created_at = 1'700'000'100;
  return r;
}

lti::StoredLaunch PortsContractTest::MakeLaunch(const std::string& id, const std::string& token_hash,
                                                int64_t expires_at) {
  lti::StoredLaunch l;
  l.id = id;
  l.tenant_id = lti::TenantId("t-acme");
  l.registration_id = lti::RegistrationId("reg-1");
  l.launch_json = R"({"id":")" + id + R"(","user":{"id":"u1","name":"Ada \"Byron\" Lovelace"},"roles":[]})";
  l.token_hash = token_hash;
  l.created_at = expires_at - 60;
  l.token_expires_at = expires_at;
  return l;
}

lti::PassbackKey PortsContractTest::MakePassbackKey(const lti::Tenant& tenant, const std::string& id,
                                                   int64_t created_at) {
  lti::PassbackKey k;
  k.id = id;
  k.tenant_id = tenant.id;
  k.secret_hash = "secret-hash-of-" + id;
  k.created_at = created_at;
  return k;
}

// ---------------------------------------------------------------------------------------------
// TenantStore

TEST_P(PortsContractTest, TenantRoundTripsThroughEveryFinder) {
  lti::Tenant t = AddTenant("acme");
  auto by_name = s_.tenants->FindTenantByName("acme");
  ASSERT_TRUE(IsOk(by_name.status()));
  EXPECT_EQ(by_name->id, t.id);
  EXPECT_EQ(by_name->name, "acme");
  EXPECT_EQ(by_name->api_key_hash, t.api_key_hash);
  EXPECT_EQ(by_name->created_at, t.created_at);
  auto by_id = s_.tenants->FindTenantById(t.id);
  ASSERT_TRUE(IsOk(by_id.status()));
  EXPECT_EQ(by_id->name, "acme");
  auto by_key = s_.tenants->FindTenantByApiKeyHash(t.api_key_hash);
  ASSERT_TRUE(IsOk(by_key.status()));
  EXPECT_EQ(by_key->id, t.id);
}

TEST_P(PortsContractTest, DuplicateTenantNameConflicts) {
  lti::Tenant t = AddTenant("acme");
  lti::Tenant again = t;
  again.id = lti::TenantId("t-other");
  again.api_key_hash = "another-hash";
  EXPECT_TRUE(IsError(s_.tenants->AddTenant(again), Code::kConflict, "tenant.exists"));
  lti::Tenant same_id = t;
  same_id.name = "other-name";
  same_id.api_key_hash = "yet-another-hash";
  EXPECT_TRUE(IsError(s_.tenants->AddTenant(same_id), Code::kConflict, "tenant.exists"));
  auto all = s_.tenants->ListTenants();
  ASSERT_TRUE(IsOk(all.status()));
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(PortsContractTest, UnknownTenantIsNotFound) {
  AddTenant("acme");
  EXPECT_TRUE(IsError(s_.tenants->FindTenantByName("nope").status(), Code::kNotFound, "tenant.unknown"));
  EXPECT_TRUE(IsError(s_.tenants->FindTenantById(lti::TenantId("t-nope")).status(), Code::kNotFound,
                      "tenant.unknown"));
  EXPECT_TRUE(
      IsError(s_.tenants->FindTenantByApiKeyHash("nope").status(), Code::kNotFound, "tenant.unknown"));
}

TEST_P(PortsContractTest, EmptyApiKeyHashNeverFindsATenant) {
  lti::Tenant keyless;
  keyless.id = lti::TenantId("t-keyless");
  keyless.name = "keyless";
  keyless.created_at = 1;
  ASSERT_TRUE(IsOk(s_.tenants->AddTenant(keyless)));
  lti::Tenant keyless2 = keyless;
  keyless2.id = lti::TenantId("t-keyless2");
  keyless2.name = "keyless2";
  ASSERT_TRUE(IsOk(s_.tenants->AddTenant(keyless2)));
  EXPECT_TRUE(IsError(s_.tenants->FindTenantByApiKeyHash("").status(), Code::kNotFound, "tenant.unknown"));
}

TEST_P(PortsContractTest, ListTenantsReturnsAll) {
  auto empty = s_.tenants->ListTenants();
  ASSERT_TRUE(IsOk(empty.status()));
  EXPECT_TRUE(empty->empty());
  AddTenant("acme");
  AddTenant("globex");
  AddTenant("initech");
  auto all = s_.tenants->ListTenants();
  ASSERT_TRUE(IsOk(all.status()));
  std::vector<std::string> names;
  for (const auto& t : *all) names.push_back(t.name);
  EXPECT_THAT(names, UnorderedElementsAre("acme", "globex", "initech"));
}

// ---------------------------------------------------------------------------------------------
// RegistrationStore

TEST_P(PortsContractTest, RegistrationWithSeveralDeploymentsRoundTrips) {
  lti::Tenant t = AddTenant("acme");
  lti::Registration r = MakeRegistration(t, "reg-1", "https://canvas.example.edu", "10000000000001");
  r.deployment_ids = {"dep-b", "dep-a", "1:ab12cd", "dep-c"};  // order matters, not sorted
  r.token_audience = "https://aud.example/token";
  r.family = lti::PlatformFamily::kBrightspace;
  r.target_url = "https://tool.example/land";
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(r)));

  auto got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, r);
  auto found = s_.registrations->FindRegistration(r.issuer, r.client_id);
  ASSERT_TRUE(IsOk(found.status()));
  ExpectSameRegistration(*found, r);
}

TEST_P(PortsContractTest, RegistrationWithoutDeploymentsRoundTrips) {
  lti::Tenant t = AddTenant("acme");
  lti::Registration r = MakeRegistration(t, "reg-1", "https://moodle.example.edu", "abc");
  r.deployment_ids.clear();
  r.family = lti::PlatformFamily::kMoodle;
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(r)));
  auto got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, r);
}

TEST_P(PortsContractTest, RegistrationServiceHostsAndPolicyRoundTrip) {
  lti::Tenant t = AddTenant("acme");
  lti::Registration defaults = MakeRegistration(t, "reg-0", "https://canvas.instructure.com", "1");
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(defaults)));
  auto got = s_.registrations->GetRegistration(defaults.id);
  ASSERT_TRUE(IsOk(got.status()));
  EXPECT_TRUE(got->service_hosts.empty());
  EXPECT_FALSE(got->final_grades_only);
  EXPECT_FALSE(got->send_comments);
  EXPECT_FALSE(got->allow_extra_credit);

  // Each flag on its own, so a swapped column cannot pass; service hosts keep their order.
  lti::Registration r = MakeRegistration(t, "reg-1", "https://canvas.instructure.com", "2");
  r.service_hosts = {"school.instructure.com", "api.school.edu:8443", "a.example"};
  r.final_grades_only = true;
  lti::Registration c = MakeRegistration(t, "reg-2", "https://canvas.instructure.com", "3");
  c.service_hosts = {"only.example"};
  c.send_comments = true;
  lti::Registration x = MakeRegistration(t, "reg-3", "https://canvas.instructure.com", "4");
  x.allow_extra_credit = true;
  for (const lti::Registration* want : {&r, &c, &x}) {
    ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(*want)));
    got = s_.registrations->GetRegistration(want->id);
    ASSERT_TRUE(IsOk(got.status()));
    ExpectSameRegistration(*got, *want);
    auto found = s_.registrations->FindRegistration(want->issuer, want->client_id);
    ASSERT_TRUE(IsOk(found.status()));
    ExpectSameRegistration(*found, *want);
  }
  auto by_issuer = s_.registrations->FindRegistrationsByIssuer("https://canvas.instructure.com");
  ASSERT_TRUE(IsOk(by_issuer.status()));
  ASSERT_EQ(by_issuer->size(), 4u);
  auto listed = s_.registrations->ListRegistrations(t.id);
  ASSERT_TRUE(IsOk(listed.status()));
  for (const auto& one : *listed) {
    if (one.id == r.id) ExpectSameRegistration(one, r);
    if (one.id == c.id) ExpectSameRegistration(one, c);
    if (one.id == x.id) ExpectSameRegistration(one, x);
  }
}

TEST_P(PortsContractTest, DuplicateIssuerAndClientIdConflicts) {
  lti::Tenant acme = AddTenant("acme");
  lti::Tenant globex = AddTenant("globex");
  lti::Registration r = MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42");
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(r)));
  // Same (issuer, client_id) under another id and even another tenant.
  lti::Registration dup = MakeRegistration(globex, "reg-2", "https://canvas.example.edu", "42");
  EXPECT_TRUE(IsError(s_.registrations->AddRegistration(dup), Code::kConflict, "registration.exists"));
  // Same id.
  lti::Registration same_id = MakeRegistration(acme, "reg-1", "https://other.example.edu", "7");
  EXPECT_TRUE(IsError(s_.registrations->AddRegistration(same_id), Code::kConflict, "registration.exists"));
  // The failed adds left nothing behind.
  EXPECT_TRUE(IsError(s_.registrations->GetRegistration(lti::RegistrationId("reg-2")).status(), Code::kNotFound,
                      "registration.unknown"));
  auto got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, r);
  // Same issuer, another client_id is fine.
  lti::Registration other_client = MakeRegistration(acme, "reg-3", "https://canvas.example.edu", "43");
  EXPECT_TRUE(IsOk(s_.registrations->AddRegistration(other_client)));
}

TEST_P(PortsContractTest, RegistrationForUnknownTenantIsRejected) {
  lti::Tenant ghost;
  ghost.id = lti::TenantId("t-ghost");
  lti::Registration r = MakeRegistration(ghost, "reg-1", "https://canvas.example.edu", "42");
  EXPECT_TRUE(IsError(s_.registrations->AddRegistration(r), Code::kNotFound, "tenant.unknown"));
  EXPECT_TRUE(IsError(s_.registrations->GetRegistration(r.id).status(), Code::kNotFound, "registration.unknown"));
}

TEST_P(PortsContractTest, UnknownRegistrationIsNotFound) {
  EXPECT_TRUE(IsError(s_.registrations->GetRegistration(lti::RegistrationId("nope")).status(), Code::kNotFound,
                      "registration.unknown"));
  EXPECT_TRUE(IsError(s_.registrations->FindRegistration("https://x.example", "1").status(), Code::kNotFound,
                      "registration.unknown"));
}

TEST_P(PortsContractTest, FindRegistrationsByIssuerReturnsEveryClientId) {
  lti::Tenant acme = AddTenant("acme");
  lti::Tenant globex = AddTenant("globex");
  lti::Registration a = MakeRegistration(acme, "reg-a", "https://canvas.example.edu", "111");
  a.deployment_ids = {"d1", "d2"};
  lti::Registration b = MakeRegistration(globex, "reg-b", "https://canvas.example.edu", "222");
  b.deployment_ids = {"d3"};
  lti::Registration other = MakeRegistration(acme, "reg-o", "https://moodle.example.edu", "111");
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(a)));
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(b)));
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(other)));

  auto found = s_.registrations->FindRegistrationsByIssuer("https://canvas.example.edu");
  ASSERT_TRUE(IsOk(found.status()));
  ASSERT_EQ(found->size(), 2u);
  std::sort(found->begin(), found->end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  ExpectSameRegistration((*found)[0], a);
  ExpectSameRegistration((*found)[1], b);

  // An unknown issuer is an empty list, not an error (OidcLogin relies on it).
  auto none = s_.registrations->FindRegistrationsByIssuer("https://unknown.example.edu");
  ASSERT_TRUE(IsOk(none.status()));
  EXPECT_TRUE(none->empty());
}

TEST_P(PortsContractTest, ListRegistrationsAllOrByTenant) {
  lti::Tenant acme = AddTenant("acme");
  lti::Tenant globex = AddTenant("globex");
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(MakeRegistration(acme, "reg-1", "https://a.example", "1"))));
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(MakeRegistration(acme, "reg-2", "https://b.example", "1"))));
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(MakeRegistration(globex, "reg-3", "https://a.example", "2"))));

  auto all = s_.registrations->ListRegistrations(std::nullopt);
  ASSERT_TRUE(IsOk(all.status()));
  EXPECT_THAT(RegistrationIds(*all), UnorderedElementsAre("reg-1", "reg-2", "reg-3"));
  auto acme_regs = s_.registrations->ListRegistrations(acme.id);
  ASSERT_TRUE(IsOk(acme_regs.status()));
  EXPECT_THAT(RegistrationIds(*acme_regs), UnorderedElementsAre("reg-1", "reg-2"));
  for (const auto& r : *acme_regs) EXPECT_EQ(r.deployment_ids, std::vector<std::string>{"dep-1"});
  auto nobody = s_.registrations->ListRegistrations(lti::TenantId("t-nobody"));
  ASSERT_TRUE(IsOk(nobody.status()));
  EXPECT_TRUE(nobody->empty());
}

TEST_P(PortsContractTest, UpdateRegistrationReplacesEverything) {
  lti::Tenant acme = AddTenant("acme");
  lti::Tenant globex = AddTenant("globex");
  lti::Registration r = MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42");
  r.deployment_ids = {"d1", "d2", "d3"};
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(r)));

  lti::Registration changed = r;
  changed.tenant_id = globex.id;
  changed.client_id = "43";
  changed.deployment_ids = {"d3", "d4"};
  changed.auth_url = "https://canvas.example.edu/auth2";
  changed.token_url = "https://canvas.example.edu/token2";
  changed.jwks_url = "https://canvas.example.edu/jwks2";
  changed.token_audience = "aud";
  changed.family = lti::PlatformFamily::kGeneric;
  changed.target_url = "https://tool.example/x";
  changed.created_at = r.created_at + 5;
  changed.service_hosts = {"school.instructure.com", "api.school.edu:8443"};
  changed.final_grades_only = true;
  changed.send_comments = true;
  changed.allow_extra_credit = true;
  ASSERT_TRUE(IsOk(s_.registrations->UpdateRegistration(changed)));
  auto got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, changed);
  EXPECT_TRUE(IsError(s_.registrations->FindRegistration(r.issuer, "42").status(), Code::kNotFound,
                      "registration.unknown"));

  changed.deployment_ids.clear();
  changed.service_hosts.clear();
  changed.final_grades_only = false;
  changed.send_comments = false;
  changed.allow_extra_credit = false;
  ASSERT_TRUE(IsOk(s_.registrations->UpdateRegistration(changed)));
  got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  EXPECT_TRUE(got->deployment_ids.empty());
  ExpectSameRegistration(*got, changed);
}

TEST_P(PortsContractTest, UpdateUnknownRegistrationIsNotFound) {
  lti::Tenant acme = AddTenant("acme");
  lti::Registration r = MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42");
  EXPECT_TRUE(IsError(s_.registrations->UpdateRegistration(r), Code::kNotFound, "registration.unknown"));
  EXPECT_TRUE(IsError(s_.registrations->GetRegistration(r.id).status(), Code::kNotFound, "registration.unknown"));
}

TEST_P(PortsContractTest, UpdateOntoTakenIssuerAndClientIdConflictsAndChangesNothing) {
  lti::Tenant acme = AddTenant("acme");
  lti::Registration a = MakeRegistration(acme, "reg-a", "https://canvas.example.edu", "1");
  a.deployment_ids = {"a1", "a2"};
  lti::Registration b = MakeRegistration(acme, "reg-b", "https://canvas.example.edu", "2");
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(a)));
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(b)));
  lti::Registration clash = a;
  clash.client_id = "2";
  clash.deployment_ids = {"x"};
  clash.service_hosts = {"x.example"};
  clash.allow_extra_credit = true;
  EXPECT_TRUE(IsError(s_.registrations->UpdateRegistration(clash), Code::kConflict, "registration.exists"));
  auto got = s_.registrations->GetRegistration(a.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, a);

  lti::Registration ghost_tenant = a;
  ghost_tenant.tenant_id = lti::TenantId("t-ghost");
  EXPECT_TRUE(IsError(s_.registrations->UpdateRegistration(ghost_tenant), Code::kNotFound, "tenant.unknown"));
  got = s_.registrations->GetRegistration(a.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, a);
}

TEST_P(PortsContractTest, RemoveRegistration) {
  lti::Tenant acme = AddTenant("acme");
  lti::Registration r = MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42");
  r.deployment_ids = {"d1", "d2"};
  lti::Registration keep = MakeRegistration(acme, "reg-2", "https://canvas.example.edu", "43");
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(r)));
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(keep)));
  ASSERT_TRUE(IsOk(s_.registrations->RemoveRegistration(r.id)));
  EXPECT_TRUE(IsError(s_.registrations->GetRegistration(r.id).status(), Code::kNotFound, "registration.unknown"));
  EXPECT_TRUE(IsError(s_.registrations->FindRegistration(r.issuer, r.client_id).status(), Code::kNotFound,
                      "registration.unknown"));
  EXPECT_TRUE(IsError(s_.registrations->RemoveRegistration(r.id), Code::kNotFound, "registration.unknown"));
  auto rest = s_.registrations->ListRegistrations(std::nullopt);
  ASSERT_TRUE(IsOk(rest.status()));
  EXPECT_THAT(RegistrationIds(*rest), ElementsAre("reg-2"));
  // The id and (issuer, client_id) are free again, deployments included.
  lti::Registration again = r;
  again.deployment_ids = {"d2", "d9"};
  ASSERT_TRUE(IsOk(s_.registrations->AddRegistration(again)));
  auto got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, again);
}

// ---------------------------------------------------------------------------------------------
// NonceStore

TEST_P(PortsContractTest, NonceIsConsumedOnce) {
  ASSERT_TRUE(IsOk(s_.nonces->ConsumeNonce("id_token:reg-1", "n-1", 2'000)));
  EXPECT_TRUE(IsError(s_.nonces->ConsumeNonce("id_token:reg-1", "n-1", 2'000), Code::kConflict, "nonce.replayed"));
  // A different expiry does not make it new.
  EXPECT_TRUE(IsError(s_.nonces->ConsumeNonce("id_token:reg-1", "n-1", 9'000), Code::kConflict, "nonce.replayed"));
  // Scopes are independent; values are compared exactly.
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("id_token:reg-2", "n-1", 2'000)));
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("jti", "n-1", 2'000)));
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("id_token:reg-1", "N-1", 2'000)));
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("id_token:reg-1", "n-1 ", 2'000)));
}

TEST_P(PortsContractTest, ConcurrentNonceConsumptionHasExactlyOneWinner) {
  constexpr int kValues = 40;
  std::vector<std::atomic<int>> wins(kValues);
  std::atomic<int> replayed{0};
  std::atomic<int> other_errors{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int v = 0; v < kValues; ++v) {
        Status st = s_.nonces->ConsumeNonce("race", "value-" + std::to_string(v), 5'000);
        if (st.ok()) {
          wins[v]++;
        } else if (st.code() == Code::kConflict && st.reason() == "nonce.replayed") {
          replayed++;
        } else {
          ADD_FAILURE() << st.ToString();
          other_errors++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int v = 0; v < kValues; ++v) EXPECT_EQ(wins[v].load(), 1) << "value-" << v;
  EXPECT_EQ(replayed.load(), kValues * (kThreads - 1));
  EXPECT_EQ(other_errors.load(), 0);
}

TEST_P(PortsContractTest, PurgeExpiredNoncesRemovesOnlyExpiredOnes) {
  auto nothing = s_.nonces->PurgeExpiredNonces(1'000);
  ASSERT_TRUE(IsOk(nothing.status()));
  EXPECT_EQ(*nothing, 0);
  ASSERT_TRUE(IsOk(s_.nonces->ConsumeNonce("s", "a", 100)));
  ASSERT_TRUE(IsOk(s_.nonces->ConsumeNonce("s", "b", 200)));
  ASSERT_TRUE(IsOk(s_.nonces->ConsumeNonce("t", "c", 200)));
  ASSERT_TRUE(IsOk(s_.nonces->ConsumeNonce("s", "d", 300)));

  auto purged = s_.nonces->PurgeExpiredNonces(199);
  ASSERT_TRUE(IsOk(purged.status()));
  EXPECT_EQ(*purged, 1);
  // expires_at is exclusive: at now == expires_at the entry is no longer needed.
  purged = s_.nonces->PurgeExpiredNonces(200);
  ASSERT_TRUE(IsOk(purged.status()));
  EXPECT_EQ(*purged, 2);
  purged = s_.nonces->PurgeExpiredNonces(200);
  ASSERT_TRUE(IsOk(purged.status()));
  EXPECT_EQ(*purged, 0);

  // Purged values can be consumed again; the unexpired one still cannot.
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("s", "a", 1'000)));
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("s", "b", 1'000)));
  EXPECT_TRUE(IsError(s_.nonces->ConsumeNonce("s", "d", 1'000), Code::kConflict, "nonce.replayed"));
}

TEST_P(PortsContractTest, PurgeHandlesManyExpiredNonces) {
  constexpr int kCount = 2'400;  // more than one purge chunk in chunked implementations
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kCount; i += kThreads) {
        EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("bulk", std::to_string(i), i % 2 == 0 ? 10 : 10'000)));
      }
    });
  }
  for (auto& th : threads) th.join();
  auto purged = s_.nonces->PurgeExpiredNonces(11);
  ASSERT_TRUE(IsOk(purged.status()));
  EXPECT_EQ(*purged, kCount / 2);
  EXPECT_TRUE(IsError(s_.nonces->ConsumeNonce("bulk", "1", 10'000), Code::kConflict, "nonce.replayed"));
  EXPECT_TRUE(IsOk(s_.nonces->ConsumeNonce("bulk", "0", 10'000)));
}

// ---------------------------------------------------------------------------------------------
// KeyStore

TEST_P(PortsContractTest, KeysAreListedNewestFirst) {
  auto none = s_.keys->ListKeys();
  ASSERT_TRUE(IsOk(none.status()));
  EXPECT_TRUE(none->empty());
  for (auto [kid, created] : {std::pair{"k-mid", 200}, {"k-old", 100}, {"k-new", 300}}) {
    lti::StoredKey k;
    k.kid = kid;
    k.sealed_private_key = std::string("sealed-") + kid;
    k.public_jwk_json = std::string(R"({"kid":")") + kid + R"("})";
    k.created_at = created;
    ASSERT_TRUE(IsOk(s_.keys->AddKey(k)));
  }
  auto keys = s_.keys->ListKeys();
  ASSERT_TRUE(IsOk(keys.status()));
  std::vector<std::string> kids;
  for (const auto& k : *keys) kids.push_back(k.kid);
  EXPECT_THAT(kids, ElementsAre("k-new", "k-mid", "k-old"));
  EXPECT_EQ((*keys)[0].sealed_private_key, "sealed-k-new");
  EXPECT_EQ((*keys)[0].public_jwk_json, R"({"kid":"k-new"})");
  EXPECT_EQ((*keys)[0].created_at, 300);
  EXPECT_EQ((*keys)[0].retired_at, 0);
  EXPECT_EQ((*keys)[0].publish_until, 0);
}

TEST_P(PortsContractTest, KeysCreatedInTheSameSecondListNewestAddedFirst) {
  for (const char* kid : {"k-1", "k-2", "k-3"}) {
    lti::StoredKey k;
    k.kid = kid;
    k.sealed_private_key = "s";
    k.public_jwk_json = "{}";
    k.created_at = 500;
    ASSERT_TRUE(IsOk(s_.keys->AddKey(k)));
  }
  auto keys = s_.keys->ListKeys();
  ASSERT_TRUE(IsOk(keys.status()));
  std::vector<std::string> kids;
  for (const auto& k : *keys) kids.push_back(k.kid);
  EXPECT_THAT(kids, ElementsAre("k-3", "k-2", "k-1"));
}

TEST_P(PortsContractTest, SealedKeyBytesRoundTripExactly) {
  lti::StoredKey k;
  k.kid = "k-bin";
  k.sealed_private_key = std::string("\x00\x01\xff\xfe sealed \x00 tail", 17);
  k.public_jwk_json = R"({"kty":"RSA"})";
  k.created_at = 1;
  ASSERT_TRUE(IsOk(s_.keys->AddKey(k)));
  auto keys = s_.keys->ListKeys();
  ASSERT_TRUE(IsOk(keys.status()));
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].sealed_private_key, k.sealed_private_key);
}

TEST_P(PortsContractTest, DuplicateKidConflicts) {
  lti::StoredKey k;
  k.kid = "k-1";
  k.sealed_private_key = "s";
  k.public_jwk_json = "{}";
  k.created_at = 1;
  ASSERT_TRUE(IsOk(s_.keys->AddKey(k)));
  k.created_at = 2;
  EXPECT_TRUE(IsError(s_.keys->AddKey(k), Code::kConflict, "key.exists"));
}

TEST_P(PortsContractTest, RetireKey) {
  for (auto [kid, created] : {std::pair{"k-old", 100}, {"k-new", 200}}) {
    lti::StoredKey k;
    k.kid = kid;
    k.sealed_private_key = "s";
    k.public_jwk_json = "{}";
    k.created_at = created;
    ASSERT_TRUE(IsOk(s_.keys->AddKey(k)));
  }
  ASSERT_TRUE(IsOk(s_.keys->RetireKey("k-old", 250, 250 + 86'400)));
  auto keys = s_.keys->ListKeys();
  ASSERT_TRUE(IsOk(keys.status()));
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "k-new");
  EXPECT_EQ((*keys)[0].retired_at, 0);
  EXPECT_EQ((*keys)[0].publish_until, 0);
  EXPECT_EQ((*keys)[1].kid, "k-old");
  EXPECT_EQ((*keys)[1].retired_at, 250);
  EXPECT_EQ((*keys)[1].publish_until, 250 + 86'400);
  EXPECT_TRUE(IsError(s_.keys->RetireKey("k-nope", 1, 2), Code::kNotFound, "key.unknown"));
}

// ---------------------------------------------------------------------------------------------
// LaunchStore

TEST_P(PortsContractTest, LaunchRoundTripsAndRedeemsOnce) {
  lti::StoredLaunch l = MakeLaunch("L1", "hash-1", 1'060);
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(l)));
  auto got = s_.launches->GetLaunch("L1");
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameLaunch(*got, l);

  auto redeemed = s_.launches->RedeemLaunchToken("hash-1", 1'030);
  ASSERT_TRUE(IsOk(redeemed.status()));
  ExpectSameLaunch(*redeemed, l);
  EXPECT_TRUE(
      IsError(s_.launches->RedeemLaunchToken("hash-1", 1'031).status(), Code::kConflict, "launch_token.used"));
  // Once used, "used" wins over "expired".
  EXPECT_TRUE(
      IsError(s_.launches->RedeemLaunchToken("hash-1", 5'000).status(), Code::kConflict, "launch_token.used"));
  // The launch itself stays readable.
  got = s_.launches->GetLaunch("L1");
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameLaunch(*got, l);
}

TEST_P(PortsContractTest, UnknownLaunchAndToken) {
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L1", "hash-1", 1'060))));
  EXPECT_TRUE(IsError(s_.launches->GetLaunch("L2").status(), Code::kNotFound, "launch.unknown"));
  EXPECT_TRUE(
      IsError(s_.launches->RedeemLaunchToken("hash-2", 1'000).status(), Code::kNotFound, "launch_token.unknown"));
  // The launch id is not a token.
  EXPECT_TRUE(
      IsError(s_.launches->RedeemLaunchToken("L1", 1'000).status(), Code::kNotFound, "launch_token.unknown"));
  // The unknown attempts did not burn the real token.
  EXPECT_TRUE(IsOk(s_.launches->RedeemLaunchToken("hash-1", 1'000).status()));
}

TEST_P(PortsContractTest, ExpiredTokenIsRejectedAndStaysUnused) {
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L1", "hash-1", 1'060))));
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L2", "hash-2", 1'060))));
  // Expired at now == token_expires_at and after.
  EXPECT_TRUE(IsError(s_.launches->RedeemLaunchToken("hash-1", 1'060).status(), Code::kUnauthenticated,
                      "launch_token.expired"));
  EXPECT_TRUE(IsError(s_.launches->RedeemLaunchToken("hash-1", 9'999).status(), Code::kUnauthenticated,
                      "launch_token.expired"));
  // The last second before expiry still works.
  EXPECT_TRUE(IsOk(s_.launches->RedeemLaunchToken("hash-2", 1'059).status()));
}

TEST_P(PortsContractTest, DuplicateLaunchConflicts) {
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L1", "hash-1", 1'060))));
  EXPECT_TRUE(IsError(s_.launches->SaveLaunch(MakeLaunch("L1", "hash-2", 1'060)), Code::kConflict, "launch.exists"));
  EXPECT_TRUE(IsError(s_.launches->SaveLaunch(MakeLaunch("L2", "hash-1", 1'060)), Code::kConflict, "launch.exists"));
  EXPECT_TRUE(IsError(s_.launches->GetLaunch("L2").status(), Code::kNotFound, "launch.unknown"));
}

TEST_P(PortsContractTest, LaunchesWithoutTokenNeverRedeem) {
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L1", "", 1'060))));
  ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L2", "", 1'060))));
  auto got = s_.launches->GetLaunch("L2");
  ASSERT_TRUE(IsOk(got.status()));
  EXPECT_EQ(got->token_hash, "");
  EXPECT_TRUE(IsError(s_.launches->RedeemLaunchToken("", 1'000).status(), Code::kNotFound, "launch_token.unknown"));
}

TEST_P(PortsContractTest, ConcurrentRedemptionHasExactlyOneWinner) {
  constexpr int kTokens = 25;
  for (int i = 0; i < kTokens; ++i) {
    ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L" + std::to_string(i), "hash-" + std::to_string(i), 1'060))));
  }
  std::vector<std::atomic<int>> wins(kTokens);
  std::atomic<int> used{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kTokens; ++i) {
        auto r = s_.launches->RedeemLaunchToken("hash-" + std::to_string(i), 1'000);
        if (r.ok()) {
          EXPECT_EQ(r->id, "L" + std::to_string(i));
          wins[i]++;
        } else if (r.status().code() == Code::kConflict && r.status().reason() == "launch_token.used") {
          used++;
        } else {
          ADD_FAILURE() << r.status().ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kTokens; ++i) EXPECT_EQ(wins[i].load(), 1) << "token " << i;
  EXPECT_EQ(used.load(), kTokens * (kThreads - 1));
}

// ---------------------------------------------------------------------------------------------
// PassbackKeyStore

TEST_P(PortsContractTest, PassbackKeyRoundTrips) {
  lti::Tenant acme = AddTenant("acme");
  lti::PassbackKey k = MakePassbackKey(acme, "gbpk_one", 1'700'000'200);
  k.secret_hash = std::string("\x01\xff binary-ish \"quoted\" ") + std::string(64, 'a');
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(k)));
  auto got = s_.passback_keys->FindPassbackKey("gbpk_one");
  ASSERT_TRUE(IsOk(got.status()));
  EXPECT_EQ(got->id, k.id);
  EXPECT_EQ(got->tenant_id, acme.id);
  EXPECT_EQ(got->secret_hash, k.secret_hash);
  EXPECT_EQ(got->created_at, k.created_at);
}

TEST_P(PortsContractTest, UnknownPassbackKeyIsNotFound) {
  lti::Tenant acme = AddTenant("acme");
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_one", 1))));
  EXPECT_TRUE(IsError(s_.passback_keys->FindPassbackKey("gbpk_two").status(), Code::kNotFound, "passback_key.unknown"));
  EXPECT_TRUE(IsError(s_.passback_keys->FindPassbackKey("").status(), Code::kNotFound, "passback_key.unknown"));
  // Ids are matched exactly, not case-insensitively or by prefix.
  EXPECT_TRUE(IsError(s_.passback_keys->FindPassbackKey("GBPK_ONE").status(), Code::kNotFound, "passback_key.unknown"));
  EXPECT_TRUE(IsError(s_.passback_keys->FindPassbackKey("gbpk_").status(), Code::kNotFound, "passback_key.unknown"));
}

TEST_P(PortsContractTest, DuplicatePassbackKeyConflicts) {
  lti::Tenant acme = AddTenant("acme");
  lti::Tenant globex = AddTenant("globex");
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_one", 1))));
  EXPECT_TRUE(IsError(s_.passback_keys->AddPassbackKey(MakePassbackKey(globex, "gbpk_one", 2)), Code::kConflict,
                      "passback_key.exists"));
  auto got = s_.passback_keys->FindPassbackKey("gbpk_one");
  ASSERT_TRUE(IsOk(got.status()));
  EXPECT_EQ(got->tenant_id, acme.id);
}

TEST_P(PortsContractTest, PassbackKeyForUnknownTenantIsRejected) {
  lti::Tenant ghost;
  ghost.id = lti::TenantId("t-ghost");
  EXPECT_TRUE(IsError(s_.passback_keys->AddPassbackKey(MakePassbackKey(ghost, "gbpk_one", 1)), Code::kNotFound,
                      "tenant.unknown"));
  EXPECT_TRUE(IsError(s_.passback_keys->FindPassbackKey("gbpk_one").status(), Code::kNotFound, "passback_key.unknown"));
}

TEST_P(PortsContractTest, ListPassbackKeysAllOrByTenantOldestFirst) {
  lti::Tenant acme = AddTenant("acme");
  lti::Tenant globex = AddTenant("globex");
  auto none = s_.passback_keys->ListPassbackKeys(std::nullopt);
  ASSERT_TRUE(IsOk(none.status()));
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_c", 300))));
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(globex, "gbpk_a", 100))));
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_b", 100))));
  auto all = s_.passback_keys->ListPassbackKeys(std::nullopt);
  ASSERT_TRUE(IsOk(all.status()));
  EXPECT_THAT(PassbackKeyIds(*all), ElementsAre("gbpk_a", "gbpk_b", "gbpk_c"));
  auto mine = s_.passback_keys->ListPassbackKeys(acme.id);
  ASSERT_TRUE(IsOk(mine.status()));
  EXPECT_THAT(PassbackKeyIds(*mine), ElementsAre("gbpk_b", "gbpk_c"));
  for (const auto& k : *mine) EXPECT_EQ(k.tenant_id, acme.id);
  auto nobody = s_.passback_keys->ListPassbackKeys(lti::TenantId("t-nobody"));
  ASSERT_TRUE(IsOk(nobody.status()));
  EXPECT_TRUE(nobody->empty());
}

TEST_P(PortsContractTest, RemovePassbackKey) {
  lti::Tenant acme = AddTenant("acme");
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_one", 1))));
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_two", 2))));
  ASSERT_TRUE(IsOk(s_.passback_keys->RemovePassbackKey("gbpk_one")));
  EXPECT_TRUE(IsError(s_.passback_keys->FindPassbackKey("gbpk_one").status(), Code::kNotFound, "passback_key.unknown"));
  EXPECT_TRUE(IsError(s_.passback_keys->RemovePassbackKey("gbpk_one"), Code::kNotFound, "passback_key.unknown"));
  EXPECT_TRUE(IsOk(s_.passback_keys->FindPassbackKey("gbpk_two").status()));
  // The id can be used again once removed.
  EXPECT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_one", 3))));
}

// ---------------------------------------------------------------------------------------------
// Two handles on one database (another connection, pool member or process view).

TEST_P(PortsContractTest, SecondHandleSeesWritesAndCatchesReplays) {
  if (!GetParam().reopen) GTEST_SKIP() << "backend has no second handle";
  Stores other = GetParam().reopen(s_);
  lti::Tenant acme = AddTenant("acme");
  auto seen = other.tenants->FindTenantByName("acme");
  ASSERT_TRUE(IsOk(seen.status()));
  EXPECT_EQ(seen->id, acme.id);
  lti::Registration r = MakeRegistration(acme, "reg-1", "https://canvas.example.edu", "42");
  ASSERT_TRUE(IsOk(other.registrations->AddRegistration(r)));
  auto got = s_.registrations->GetRegistration(r.id);
  ASSERT_TRUE(IsOk(got.status()));
  ExpectSameRegistration(*got, r);
  EXPECT_TRUE(IsError(s_.registrations->AddRegistration(r), Code::kConflict, "registration.exists"));

  ASSERT_TRUE(IsOk(s_.nonces->ConsumeNonce("s", "n", 100)));
  EXPECT_TRUE(IsError(other.nonces->ConsumeNonce("s", "n", 100), Code::kConflict, "nonce.replayed"));

  ASSERT_TRUE(IsOk(other.launches->SaveLaunch(MakeLaunch("L1", "hash-1", 1'060))));
  ASSERT_TRUE(IsOk(s_.launches->RedeemLaunchToken("hash-1", 1'000).status()));
  EXPECT_TRUE(
      IsError(other.launches->RedeemLaunchToken("hash-1", 1'000).status(), Code::kConflict, "launch_token.used"));

  // A key removed through one handle (the CLI) stops authenticating through the other (the server).
  ASSERT_TRUE(IsOk(s_.passback_keys->AddPassbackKey(MakePassbackKey(acme, "gbpk_one", 1))));
  ASSERT_TRUE(IsOk(other.passback_keys->FindPassbackKey("gbpk_one").status()));
  ASSERT_TRUE(IsOk(s_.passback_keys->RemovePassbackKey("gbpk_one")));
  EXPECT_TRUE(IsError(other.passback_keys->FindPassbackKey("gbpk_one").status(), Code::kNotFound, "passback_key.unknown"));
}

TEST_P(PortsContractTest, ConcurrentReplayAcrossHandlesHasExactlyOneWinner) {
  if (!GetParam().reopen) GTEST_SKIP() << "backend has no second handle";
  Stores other = GetParam().reopen(s_);
  constexpr int kValues = 30;
  for (int i = 0; i < kValues; ++i) {
    ASSERT_TRUE(IsOk(s_.launches->SaveLaunch(MakeLaunch("L" + std::to_string(i), "hash-" + std::to_string(i), 1'060))));
  }
  std::vector<std::atomic<int>> nonce_wins(kValues);
  std::vector<std::atomic<int>> token_wins(kValues);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Stores& mine = t % 2 == 0 ? s_ : other;
    threads.emplace_back([&, &mine = mine] {
      start.arrive_and_wait();
      for (int i = 0; i < kValues; ++i) {
        Status st = mine.nonces->ConsumeNonce("x", std::to_string(i), 100);
        if (st.ok()) {
          nonce_wins[i]++;
        } else if (!(st.code() == Code::kConflict && st.reason() == "nonce.replayed")) {
          ADD_FAILURE() << st.ToString();
        }
        auto r = mine.launches->RedeemLaunchToken("hash-" + std::to_string(i), 1'000);
        if (r.ok()) {
          token_wins[i]++;
        } else if (!(r.status().code() == Code::kConflict && r.status().reason() == "launch_token.used")) {
          ADD_FAILURE() << r.status().ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kValues; ++i) {
    EXPECT_EQ(nonce_wins[i].load(), 1) << "nonce " << i;
    EXPECT_EQ(token_wins[i].load(), 1) << "token " << i;
  }
}

}  // namespace gb::storage::contract
