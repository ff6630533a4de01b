#include "lti/jwks_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace gb::lti {
namespace {

class FakeJwksServer final : public http::HttpClient {
 public:
  std::atomic<int> calls{0};
  std::string body;
  int status = 200;
  std::string cache_control;
  Result<http::Response> Send(const http::Request& req, const http::RequestOptions&) override {
    ++calls;
    EXPECT_EQ(req.url, "https://platform.test/jwks");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (status < 0) return Error(Code::kUnavailable, "http.transport", "connection refused");
    http::Response r;
    r.status = status;
    r.body = body;
    if (!cache_control.empty()) r.headers.Set("Cache-Control", cache_control);
    return r;
  }
  void SendAsync(http::Request req, http::RequestOptions o, Callback done) override { done(Send(req, o)); }
};

std::string JwksWith(const std::vector<std::pair<std::string, jose::RsaPublicKey>>& keys) {
  jose::Jwks jwks;
  for (const auto& [kid, key] : keys) jwks.Add(jose::Jwk{kid, "RS256", "sig", key});
  return jwks.ToJson();
}

class JwksCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    k1_ = new jose::RsaPublicKey(jose::RsaPrivateKey::Generate(2048)->PublicKey());
    k2_ = new jose::RsaPublicKey(jose::RsaPrivateKey::Generate(2048)->PublicKey());
  }
  void SetUp() override {
    reg_.jwks_url = "https://platform.test/jwks";
    server_.body = JwksWith({{"k1", *k1_}});
  }
  static jose::RsaPublicKey* k1_;
  static jose::RsaPublicKey* k2_;
  Registration reg_;
  FakeJwksServer server_;
  FakeClock clock_;
};
jose::RsaPublicKey* JwksCacheTest::k1_ = nullptr;
jose::RsaPublicKey* JwksCacheTest::k2_ = nullptr;

TEST_F(JwksCacheTest, CachesUntilMaxAge) {
  server_.cache_control = "public, max-age=600";
  JwksCache cache(server_, clock_);
  ASSERT_TRUE(cache.FindKey(reg_, "k1").ok());
  ASSERT_TRUE(cache.FindKey(reg_, "k1").ok());
  EXPECT_EQ(server_.calls, 1);
  clock_.Advance(std::chrono::seconds(601));
  ASSERT_TRUE(cache.FindKey(reg_, "k1").ok());
  EXPECT_EQ(server_.calls, 2);
}

TEST_F(JwksCacheTest, UnknownKidRefetchesOnceForRotationButIsRateLimited) {
  JwksCache cache(server_, clock_);
  ASSERT_TRUE(cache.FindKey(reg_, "k1").ok());
  server_.body = JwksWith({{"k1", *k1_}, {"k2", *k2_}});  // the platform rotated
  ASSERT_TRUE(cache.FindKey(reg_, "k2").ok());
  EXPECT_EQ(server_.calls, 2);
  // A flood of forged kids does not turn into a flood of fetches.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(cache.FindKey(reg_, "forged-" + std::to_string(i)).status().reason(), "jwks.unknown_kid");
  }
  EXPECT_EQ(server_.calls, 2);
  clock_.Advance(std::chrono::seconds(11));
  EXPECT_FALSE(cache.FindKey(reg_, "forged").ok());
  EXPECT_EQ(server_.calls, 3);
}

TEST_F(JwksCacheTest, ConcurrentMissesShareOneFetch) {
  JwksCache cache(server_, clock_);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ok += cache.FindKey(reg_, "k1").ok() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(server_.calls, 1);
}

TEST_F(JwksCacheTest, FailuresAreReportedAndStaleKeysServeDuringAnOutage) {
  server_.status = 500;
  JwksCache cache(server_, clock_);
  EXPECT_EQ(cache.FindKey(reg_, "k1").status().reason(), "jwks.fetch_failed");
  server_.status = 200;
  server_.body = "{not json";
  EXPECT_EQ(cache.FindKey(reg_, "k1").status().reason(), "jwks.fetch_failed");
  server_.body = JwksWith({{"k1", *k1_}});
  ASSERT_TRUE(cache.FindKey(reg_, "k1").ok());
  clock_.Advance(std::chrono::hours(2));
  server_.status = -1;  // platform unreachable
  EXPECT_TRUE(cache.FindKey(reg_, "k1").ok());
}

}  // namespace
}  // namespace gb::lti
