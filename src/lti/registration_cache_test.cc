#include "lti/registration_cache.h"

#include <gtest/gtest.h>

#include "lti/test_fakes.h"

namespace gb::lti {
namespace {

using namespace std::chrono_literals;

// Counts the reads that reach the real store.
class CountingRegistrations final : public RegistrationStore {
 public:
  Status AddRegistration(const Registration& r) override { return inner.AddRegistration(r); }
  Status UpdateRegistration(const Registration& r) override { return inner.UpdateRegistration(r); }
  Result<Registration> GetRegistration(const RegistrationId& id) override {
    ++reads;
    return inner.GetRegistration(id);
  }
  Result<Registration> FindRegistration(std::string_view iss, std::string_view client) override {
    ++reads;
    return inner.FindRegistration(iss, client);
  }
  Result<std::vector<Registration>> FindRegistrationsByIssuer(std::string_view iss) override {
    ++reads;
    return inner.FindRegistrationsByIssuer(iss);
  }
  Result<std::vector<Registration>> ListRegistrations(const std::optional<TenantId>& t) override {
    ++reads;
    return inner.ListRegistrations(t);
  }
  Status RemoveRegistration(const RegistrationId& id) override { return inner.RemoveRegistration(id); }

  testing::MemoryRegistrations inner;
  int reads = 0;
};

Registration MakeRegistration(std::string id, std::string client_id) {
  Registration r;
  r.id = RegistrationId(std::move(id));
  r.issuer = "https://canvas.example.edu";
  r.client_id = std::move(client_id);
  r.target_url = "https://tool.example/a";
  return r;
}

class RegistrationCacheTest : public ::testing::Test {
 protected:
  CountingRegistrations store;
  FakeClock clock;
  CachedRegistrations cache{store, clock, 5s};
};

TEST_F(RegistrationCacheTest, FoundRegistrationsAreServedFromMemoryUntilTheTtl) {
  ASSERT_TRUE(store.AddRegistration(MakeRegistration("r1", "c1")).ok());
  for (int i = 0; i < 3; ++i) {
    auto found = cache.FindRegistration("https://canvas.example.edu", "c1");
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->id.str(), "r1");
    ASSERT_TRUE(cache.GetRegistration(RegistrationId("r1")).ok());
    ASSERT_EQ(cache.FindRegistrationsByIssuer("https://canvas.example.edu")->size(), 1u);
  }
  EXPECT_EQ(store.reads, 3);  // one per kind of lookup

  // Another process changes the registration: seen once the entry expires.
  auto changed = MakeRegistration("r1", "c1");
  changed.target_url = "https://tool.example/b";
  ASSERT_TRUE(store.inner.UpdateRegistration(changed).ok());
  EXPECT_EQ(cache.GetRegistration(RegistrationId("r1"))->target_url, "https://tool.example/a");
  clock.Advance(5s);
  EXPECT_EQ(cache.GetRegistration(RegistrationId("r1"))->target_url, "https://tool.example/b");
  EXPECT_EQ(store.reads, 4);
}

TEST_F(RegistrationCacheTest, MissesAreNotCachedSoANewRegistrationWorksAtOnce) {
  EXPECT_EQ(cache.FindRegistration("https://canvas.example.edu", "c2").status().reason(), "registration.unknown");
  EXPECT_TRUE(cache.FindRegistrationsByIssuer("https://canvas.example.edu")->empty());
  // Added behind the cache's back (the admin CLI is another process).
  ASSERT_TRUE(store.inner.AddRegistration(MakeRegistration("r2", "c2")).ok());
  EXPECT_TRUE(cache.FindRegistration("https://canvas.example.edu", "c2").ok());
  EXPECT_EQ(cache.FindRegistrationsByIssuer("https://canvas.example.edu")->size(), 1u);
}

TEST_F(RegistrationCacheTest, OwnWritesAreVisibleAtOnce) {
  ASSERT_TRUE(cache.AddRegistration(MakeRegistration("r1", "c1")).ok());
  ASSERT_TRUE(cache.GetRegistration(RegistrationId("r1")).ok());
  auto changed = MakeRegistration("r1", "c1");
  changed.target_url = "https://tool.example/b";
  ASSERT_TRUE(cache.UpdateRegistration(changed).ok());
  EXPECT_EQ(cache.GetRegistration(RegistrationId("r1"))->target_url, "https://tool.example/b");
  ASSERT_TRUE(cache.RemoveRegistration(RegistrationId("r1")).ok());
  EXPECT_FALSE(cache.GetRegistration(RegistrationId("r1")).ok());
  EXPECT_FALSE(cache.FindRegistration("https://canvas.example.edu", "c1").ok());
}

TEST_F(RegistrationCacheTest, ZeroTtlCachesNothing) {
  CachedRegistrations uncached(store, clock, 0ms);
  ASSERT_TRUE(store.AddRegistration(MakeRegistration("r1", "c1")).ok());
  ASSERT_TRUE(uncached.GetRegistration(RegistrationId("r1")).ok());
  ASSERT_TRUE(uncached.GetRegistration(RegistrationId("r1")).ok());
  EXPECT_EQ(store.reads, 2);
}

}  // namespace
}  // namespace gb::lti
