#include "lti/key_ring.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lti/handoff.h"
#include "lti/test_fakes.h"

namespace gb::lti {
namespace {

TEST(KeyRingTest, GeneratesSealsRotatesAndPublishesWithOverlap) {
  testing::MemoryKeys store;
  FakeClock clock;
  std::string data_key(32, 'k');
  KeyRing ring(store, data_key, clock, SecureRandom::Instance());
  ASSERT_TRUE(ring.Load().ok());
  ASSERT_EQ(store.keys_.size(), 1u);
  EXPECT_EQ(store.keys_[0].sealed_private_key.find("PRIVATE KEY"), std::string::npos);
  std::string first = ring.Active()->kid;

  auto rotated = ring.Rotate(std::chrono::hours(1));
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_NE(*rotated, first);
  EXPECT_EQ(ring.Active()->kid, *rotated);
  auto jwks = nlohmann::json::parse(ring.PublishedJwksJson());
  EXPECT_EQ(jwks["keys"].size(), 2u);

  clock.Advance(std::chrono::hours(2));
  ASSERT_TRUE(ring.Load().ok());
  jwks = nlohmann::json::parse(ring.PublishedJwksJson());
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kid"], *rotated);

  // Another data key cannot open the stored keys: a clear error, not a crash or a new key.
  KeyRing wrong(store, std::string(32, 'x'), clock, SecureRandom::Instance());
  EXPECT_EQ(wrong.Load().reason(), "keys.undecryptable");
}

TEST(HandOffTest, TokensAreSingleUseShortLivedAndTenantBound) {
  testing::MemoryLaunches store;
  FakeClock clock;
  LaunchHandOff handoff(store, clock, SecureRandom::Instance(), std::chrono::seconds(120));
  Launch l;
  l.id = "L1";
  l.tenant_id = TenantId("t1");
  lti::StoredLaunch stored{"L1", TenantId("t1"), RegistrationId("r1"), l.ToJson().dump(), HashToken("L1.secret"),
                           clock.NowSeconds(), clock.NowSeconds() + 120};
  ASSERT_TRUE(store.SaveLaunch(stored).ok());
  EXPECT_EQ(handoff.Redeem("L1.secret", TenantId("t2")).status().reason(), "launch_token.unknown");
  EXPECT_EQ(handoff.Redeem("L1.wrong", TenantId("t1")).status().reason(), "launch_token.unknown");
  EXPECT_EQ(handoff.Redeem("garbage", TenantId("t1")).status().reason(), "launch_token.unknown");
  auto ok = handoff.Redeem("L1.secret", TenantId("t1"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->id, "L1");
  EXPECT_EQ(handoff.Redeem("L1.secret", TenantId("t1")).status().reason(), "launch_token.used");
}

}  // namespace
}  // namespace gb::lti
