// SqliteStore's Lti11ConsumerStore (migration 6) and the scores.result_sourcedid column.
#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sqlite_test_util.h"

namespace gb::storage {
namespace {

using test_util::OpenOrDie;
using test_util::TempDir;

class Lti11ConsumerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = OpenOrDie(dir.File("gb.db"));
    for (const char* name : {"acme", "globex"}) {
      lti::Tenant t;
      t.id = lti::TenantId(std::string("t-") + name);
      t.name = name;
      t.created_at = 1;
      ASSERT_TRUE(store->AddTenant(t).ok());
      lti::Registration r;
      r.id = lti::RegistrationId(std::string("r-") + name);
      r.tenant_id = t.id;
      r.issuer = std::string("lti11:") + name;
      r.client_id = name;
      ASSERT_TRUE(store->AddRegistration(r).ok());
    }
  }
  lti::Lti11Consumer Make(const std::string& key, const std::string& tenant, int64_t at) {
    lti::Lti11Consumer c;
    c.consumer_key = key;
    c.tenant_id = lti::TenantId("t-" + tenant);
    c.registration_id = lti::RegistrationId("r-" + tenant);
    c.sealed_secret = std::string("\x01\x00\xff sealed", 10) + key;
    c.created_at = at;
    return c;
  }
  TempDir dir;
  std::unique_ptr<SqliteStore> store;
};

TEST_F(Lti11ConsumerStoreTest, RoundTripsListsAndRemoves) {
  ASSERT_TRUE(store->AddLti11Consumer(Make("k2", "acme", 20)).ok());
  ASSERT_TRUE(store->AddLti11Consumer(Make("k1", "acme", 10)).ok());
  ASSERT_TRUE(store->AddLti11Consumer(Make("k3", "globex", 5)).ok());
  auto got = store->FindLti11Consumer("k1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tenant_id.str(), "t-acme");
  EXPECT_EQ(got->registration_id.str(), "r-acme");
  EXPECT_EQ(got->sealed_secret, Make("k1", "acme", 10).sealed_secret);  // binary-safe
  EXPECT_EQ(got->created_at, 10);
  auto mine = store->ListLti11Consumers(lti::TenantId("t-acme"));
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].consumer_key, "k1");
  auto all = store->ListLti11Consumers(std::nullopt);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].consumer_key, "k3");
  EXPECT_EQ(store->AddLti11Consumer(Make("k1", "globex", 30)).reason(), "lti11_key.exists");
  ASSERT_TRUE(store->RemoveLti11Consumer("k1").ok());
  EXPECT_EQ(store->FindLti11Consumer("k1").status().reason(), "lti11_key.unknown");
  EXPECT_EQ(store->RemoveLti11Consumer("k1").reason(), "lti11_key.unknown");
  EXPECT_EQ(store->FindLti11Consumer("").status().reason(), "lti11_key.unknown");
}

TEST_F(Lti11ConsumerStoreTest, NeedsAnExistingTenantAndRegistrationAndGoesWithTheRegistration) {
  auto bad = Make("k9", "acme", 1);
  bad.registration_id = lti::RegistrationId("r-none");
  EXPECT_EQ(store->AddLti11Consumer(bad).reason(), "lti11_key.bad_owner");
  ASSERT_TRUE(store->AddLti11Consumer(Make("k1", "acme", 1)).ok());
  ASSERT_TRUE(store->RemoveRegistration(lti::RegistrationId("r-acme")).ok());
  EXPECT_EQ(store->FindLti11Consumer("k1").status().reason(), "lti11_key.unknown");
}

TEST_F(Lti11ConsumerStoreTest, ScoresKeepTheirBasicOutcomesTarget) {
  passback::ScoreRecord s;
  s.id = "s1";
  s.tenant_id = lti::TenantId("t-acme");
  s.registration_id = lti::RegistrationId("r-acme");
  s.idempotency_key = "i1";
  s.lineitem_url = "https://lms.example/outcomes";
  s.result_sourcedid = "sid-1";
  s.user_id = "u1";
  s.score_given = 3;
  s.score_maximum = 4;
  s.timestamp_ms = 1000;
  s.created_at_ms = s.updated_at_ms = 1000;
  ASSERT_TRUE(store->EnqueueBatch({s}).ok());
  auto got = store->GetScoreAnyTenant("s1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->result_sourcedid, "sid-1");
  EXPECT_EQ(got->lineitem_url, "https://lms.example/outcomes");
}

}  // namespace
}  // namespace gb::storage
