#include "lti/tenant_cache.h"

#include <gtest/gtest.h>

#include <map>

namespace gb::lti {
namespace {

using namespace std::chrono_literals;

// A tenant table that counts the reads reaching it.
class CountingTenants final : public TenantStore {
 public:
  Status AddTenant(const Tenant& t) override {
    by_id[t.id.str()] = t;
    return Status::Ok();
  }
  Result<Tenant> FindTenantByName(std::string_view) override { return Unknown(); }
  Result<Tenant> FindTenantById(const TenantId& id) override {
    ++reads;
    auto it = by_id.find(id.str());
    if (it == by_id.end()) return Unknown();
    return it->second;
  }
  Result<Tenant> FindTenantByApiKeyHash(std::string_view hash) override {
    ++reads;
    for (const auto& [id, t] : by_id) {
      if (t.api_key_hash == hash) return t;
    }
    return Unknown();
  }
  Result<std::vector<Tenant>> ListTenants() override { return std::vector<Tenant>{}; }
  static Status Unknown() { return Error(Code::kNotFound, "tenant.unknown", "no such tenant"); }

  std::map<std::string, Tenant> by_id;
  int reads = 0;
};

Tenant MakeTenant(std::string id, std::string hash) {
  Tenant t;
  t.id = TenantId(std::move(id));
  t.name = "school";
  t.api_key_hash = std::move(hash);
  return t;
}

TEST(TenantCacheTest, KnownKeysAreServedFromMemoryUnknownOnesAlwaysAskTheStore) {
  CountingTenants store;
  FakeClock clock;
  CachedTenants cache(store, clock, 5s);
  ASSERT_TRUE(store.AddTenant(MakeTenant("t1", "h1")).ok());
  for (int i = 0; i < 3; ++i) {
    auto t = cache.FindTenantByApiKeyHash("h1");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->id.str(), "t1");
  }
  EXPECT_EQ(store.reads, 1);
  EXPECT_FALSE(cache.FindTenantByApiKeyHash("h2").ok());
  EXPECT_FALSE(cache.FindTenantByApiKeyHash("h2").ok());
  EXPECT_EQ(store.reads, 3);  // misses are not remembered
  ASSERT_TRUE(store.AddTenant(MakeTenant("t2", "h2")).ok());  // another process adds it
  EXPECT_TRUE(cache.FindTenantByApiKeyHash("h2").ok());

  // A change behind the cache's back shows once the entry expires.
  store.by_id["t1"].name = "renamed";
  EXPECT_EQ(cache.FindTenantByApiKeyHash("h1")->name, "school");
  clock.Advance(5s);
  EXPECT_EQ(cache.FindTenantByApiKeyHash("h1")->name, "renamed");
  EXPECT_EQ(cache.FindTenantById(TenantId("t1"))->name, "renamed");
}

}  // namespace
}  // namespace gb::lti
