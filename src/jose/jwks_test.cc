#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "jose/jose.h"
#include "jose/test_util.h"

namespace gb::jose {
namespace {

using nlohmann::json;
using testing::TestKey;

json GoodJwk(std::string_view kid) { return TestKey().PublicKey().ToJwk(kid); }

std::string KeySet(const json& keys) { return json{{"keys", keys}}.dump(); }

// Captures log output for the duration of a test (Parse warns about rejected RS256 keys).
class JwksTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSink(&log_); }
  void TearDown() override { SetLogSink(nullptr); }
  std::string log_;
};

TEST_F(JwksTest, Rfc7517A1KeepsTheRsaKeyAndSkipsTheEcKey) {
  auto jwks = Jwks::Parse(testing::kRfc7517A1Jwks);
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  ASSERT_EQ(jwks->keys().size(), 1u);
  const Jwk& k = jwks->keys()[0];
  EXPECT_EQ(k.kid, "2011-04-29");
  EXPECT_EQ(k.alg, "RS256");
  EXPECT_EQ(k.use, "");
  ASSERT_TRUE(k.key.valid());
  EXPECT_EQ(Thumbprint(k.key), testing::kRfc7638Thumbprint);  // RFC 7638 uses the same key
  EXPECT_EQ(jwks->Find("2011-04-29"), &k);
  EXPECT_EQ(jwks->Find("1"), nullptr);  // the EC key
}

TEST_F(JwksTest, SkipsKeysNotUsableForRs256) {
  json keys = json::array();
  keys.push_back(GoodJwk("plain"));
  json no_optional = GoodJwk("bare");
  no_optional.erase("alg");
  no_optional.erase("use");
  keys.push_back(no_optional);
  json enc = GoodJwk("enc");
  enc["use"] = "enc";
  keys.push_back(enc);
  json rs512 = GoodJwk("rs512");
  rs512["alg"] = "RS512";
  keys.push_back(rs512);
  json ps256 = GoodJwk("ps256");
  ps256["alg"] = "PS256";
  keys.push_back(ps256);
  json use_num = GoodJwk("use-num");
  use_num["use"] = 1;
  keys.push_back(use_num);
  json alg_null = GoodJwk("alg-null");
  alg_null["alg"] = nullptr;
  keys.push_back(alg_null);
  json kid_num = GoodJwk("");
  kid_num["kid"] = 7;
  keys.push_back(kid_num);
  json ops_sign = GoodJwk("ops-sign");
  ops_sign["key_ops"] = json::array({"sign"});
  keys.push_back(ops_sign);
  json ops_verify = GoodJwk("ops-verify");
  ops_verify["key_ops"] = json::array({"sign", "verify"});
  keys.push_back(ops_verify);
  keys.push_back(
      json{{"kty", "oct"}, {"k", "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"}, {"kid", "hmac"}});
  keys.push_back(json{{"kty", "EC"}, {"crv", "P-256"}, {"kid", "ec"}});
  keys.push_back(json{{"kty", "RSA"}, {"kid", "no-n"}, {"e", "AQAB"}});
  json small = GoodJwk("small");
  small["n"] = Base64UrlEncode(std::string(128, '\xff'));
  keys.push_back(small);
  keys.push_back("a string");
  keys.push_back(nullptr);
  keys.push_back(json::array());

  auto jwks = Jwks::Parse(KeySet(keys));
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  std::vector<std::string> kept;
  for (const Jwk& k : jwks->keys()) kept.push_back(k.kid);
  EXPECT_EQ(kept, (std::vector<std::string>{"plain", "bare", "ops-verify"}));
  EXPECT_EQ(jwks->keys()[0].use, "sig");
  EXPECT_EQ(jwks->keys()[0].alg, "RS256");
  EXPECT_EQ(jwks->keys()[1].use, "");
  EXPECT_EQ(jwks->keys()[1].alg, "");
  // The keys that were meant for RS256 but unusable are reported; the others are skipped quietly.
  EXPECT_NE(log_.find("jwks.key_rejected"), std::string::npos);
  EXPECT_NE(log_.find("small"), std::string::npos);
  EXPECT_NE(log_.find("no-n"), std::string::npos);
  EXPECT_EQ(log_.find("rs512"), std::string::npos);
  EXPECT_EQ(log_.find("hmac"), std::string::npos);
}

TEST_F(JwksTest, RejectsDocumentsThatAreNotKeySets) {
  for (std::string_view text :
       {"", " ", "not json", "{", "[]", "null", "42", "\"keys\"", "{}", R"({"keys":null})",
        R"({"keys":{}})", R"({"keys":"[]"})", R"({"Keys":[]})", R"({"keys":[]} trailing)",
        R"({"keys":[/* comment */]})", "\xef\xbb\xbf\xff{\"keys\":[]}"}) {
    auto jwks = Jwks::Parse(text);
    ASSERT_FALSE(jwks.ok()) << text;
    EXPECT_EQ(jwks.status().reason(), "jwks.invalid") << text;
  }
  // Trailing NUL byte.
  EXPECT_FALSE(Jwks::Parse(std::string_view("{\"keys\":[]}\0", 12)).ok());
  // An empty key set is a valid key set.
  auto empty = Jwks::Parse(R"({"keys":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->keys().empty());
}

TEST_F(JwksTest, SurvivesHostileMemberValues) {
  const json base = GoodJwk("k");
  const json values[] = {nullptr,
                         true,
                         0,
                         -1,
                         1e308,
                         18446744073709551615ull,
                         "",
                         "====",
                         "A",
                         std::string(200'000, 'A'),
                         std::string(5000, '_'),
                         json::array(),
                         json::object(),
                         json::array({base["n"]}),
                         json{{"n", base["n"]}}};
  for (const char* member : {"kty", "n", "e", "kid", "alg", "use", "key_ops"}) {
    for (const json& value : values) {
      json key = base;
      key[member] = value;
      auto jwks = Jwks::Parse(KeySet(json::array({key})));
      ASSERT_TRUE(jwks.ok()) << member;
      EXPECT_LE(jwks->keys().size(), 1u);
    }
  }
}

TEST_F(JwksTest, SurvivesDeepNestingAndRandomMutations) {
  std::string deep = "{\"keys\":[" + std::string(100'000, '[') + std::string(100'000, ']') + "]}";
  EXPECT_TRUE(Jwks::Parse(deep).ok());
  std::string unbalanced = "{\"keys\":" + std::string(200'000, '[');
  EXPECT_FALSE(Jwks::Parse(unbalanced).ok());

  const std::string good = KeySet(json::array({GoodJwk("a"), GoodJwk("b")}));
  SeededRandom random(7);
  for (int i = 0; i < 300; ++i) {
    std::string text = good;
    const int edits = 1 + static_cast<int>(random.Uniform(4));
    for (int e = 0; e < edits; ++e) {
      size_t pos = random.Uniform(text.size());
      switch (random.Uniform(3)) {
        case 0:
          text[pos] = static_cast<char>(random.Uniform(256));
          break;
        case 1:
          text.erase(pos, 1 + random.Uniform(8));
          break;
        default:
          text.insert(pos, 1, "{}[]\",:0\\"[random.Uniform(9)]);
          break;
      }
    }
    auto jwks = Jwks::Parse(text);
    if (jwks.ok()) {
      EXPECT_LE(jwks->keys().size(), 2u);
    }
  }
}

TEST_F(JwksTest, FindMatchesKidExactly) {
  Jwks jwks;
  jwks.Add(Jwk{"one", "RS256", "sig", TestKey().PublicKey()});
  jwks.Add(Jwk{"two", "", "", testing::OtherTestKey().PublicKey()});
  jwks.Add(Jwk{"", "", "", TestKey().PublicKey()});
  ASSERT_NE(jwks.Find("two"), nullptr);
  EXPECT_EQ(Thumbprint(jwks.Find("two")->key), Thumbprint(testing::OtherTestKey().PublicKey()));
  EXPECT_EQ(jwks.Find("One"), nullptr);
  EXPECT_EQ(jwks.Find("one "), nullptr);
  EXPECT_EQ(jwks.Find("three"), nullptr);
  EXPECT_EQ(jwks.Find(""), nullptr);  // a kid-less entry never matches
}

TEST_F(JwksTest, ToJsonRoundTrips) {
  Jwks jwks;
  jwks.Add(Jwk{"one", "RS256", "sig", TestKey().PublicKey()});
  jwks.Add(Jwk{"two", "", "", testing::OtherTestKey().PublicKey()});
  jwks.Add(Jwk{"invalid", "", "", RsaPublicKey()});  // not rendered
  std::string text = jwks.ToJson();
  json doc = json::parse(text);
  ASSERT_EQ(doc["keys"].size(), 2u);
  EXPECT_EQ(doc["keys"][0]["kid"], "one");
  EXPECT_FALSE(doc["keys"][0].contains("d"));
  auto back = Jwks::Parse(text);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->keys().size(), 2u);
  EXPECT_EQ(Thumbprint(back->Find("one")->key), Thumbprint(TestKey().PublicKey()));
  EXPECT_EQ(Thumbprint(back->Find("two")->key), Thumbprint(testing::OtherTestKey().PublicKey()));
  // Never throws, even on a kid that is not UTF-8.
  jwks.Add(Jwk{"bad\xff", "", "", TestKey().PublicKey()});
  EXPECT_NO_THROW((void)jwks.ToJson());
}

}  // namespace
}  // namespace gb::jose
