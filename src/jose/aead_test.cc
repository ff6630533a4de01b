#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/random.h"
#include "jose/jose.h"

namespace gb::jose {
namespace {

const std::string kKey(32, '\x42');
const std::string kOtherKey = std::string(31, '\x42') + '\x43';

std::string SealOrDie(std::string_view plaintext, std::string_view aad, Random& random) {
  auto sealed = Seal(kKey, plaintext, aad, random);
  EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
  return sealed.ok() ? *sealed : std::string();
}

void ExpectBadDataKey(const Result<std::string>& opened, const char* what) {
  ASSERT_FALSE(opened.ok()) << what;
  EXPECT_EQ(opened.status().reason(), "crypto.bad_data_key") << what;
  EXPECT_EQ(opened.status().code(), Code::kUnauthenticated) << what;
}

TEST(AeadTest, SealOpenRoundTrip) {
  SeededRandom random(1);
  for (std::string_view plaintext : {std::string_view(""), std::string_view("x"),
                                     std::string_view("-----BEGIN PRIVATE KEY-----\nMIIE...\n"),
                                     std::string_view("\0\1\2\xff", 4)}) {
    std::string sealed = SealOrDie(plaintext, "kid-1", random);
    // Layout: version | 12-byte nonce | ciphertext | 16-byte tag.
    ASSERT_EQ(sealed.size(), 1 + 12 + plaintext.size() + 16);
    EXPECT_EQ(sealed[0], '\x01');
    if (plaintext.size() > 4) {
      EXPECT_EQ(sealed.find(plaintext), std::string::npos);
    }
    auto opened = Open(kKey, sealed, "kid-1");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
  std::string big(1 << 20, 'z');
  auto opened = Open(kKey, SealOrDie(big, "", random), "");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, big);
}

TEST(AeadTest, NoncesAreFreshPerSeal) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string sealed = SealOrDie("same plaintext", "aad", SecureRandom::Instance());
    EXPECT_TRUE(seen.insert(sealed).second) << "identical blob: nonce reused";
  }
}

TEST(AeadTest, AnyTamperingIsDetected) {
  SeededRandom random(2);
  const std::string sealed = SealOrDie("the private key", "kid", random);
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string t = sealed;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      ExpectBadDataKey(Open(kKey, t, "kid"), "bit flip");
    }
  }
  ExpectBadDataKey(Open(kKey, sealed.substr(0, sealed.size() - 1), "kid"), "truncated tag");
  ExpectBadDataKey(Open(kKey, sealed.substr(1), "kid"), "missing version");
  ExpectBadDataKey(Open(kKey, sealed + "x", "kid"), "appended byte");
  ExpectBadDataKey(Open(kKey, "", "kid"), "empty");
  ExpectBadDataKey(Open(kKey, sealed.substr(0, 28), "kid"), "shorter than the overhead");
  std::string v2 = sealed;
  v2[0] = '\x02';
  ExpectBadDataKey(Open(kKey, v2, "kid"), "unknown version");
}

TEST(AeadTest, WrongKeyOrAadFails) {
  SeededRandom random(3);
  const std::string sealed = SealOrDie("secret", "kid-a", random);
  ExpectBadDataKey(Open(kOtherKey, sealed, "kid-a"), "wrong key");
  ExpectBadDataKey(Open(kKey, sealed, "kid-b"), "wrong aad");
  ExpectBadDataKey(Open(kKey, sealed, ""), "missing aad");
  ExpectBadDataKey(Open(kKey, sealed, "kid-"), "aad prefix");
  ExpectBadDataKey(Open(kKey, sealed, std::string_view("kid-a\0", 6)), "aad with trailing NUL");
  EXPECT_TRUE(Open(kKey, sealed, "kid-a").ok());
  // An empty aad is bound too.
  const std::string no_aad = SealOrDie("secret", "", random);
  EXPECT_TRUE(Open(kKey, no_aad, "").ok());
  ExpectBadDataKey(Open(kKey, no_aad, "x"), "aad where none was used");
}

TEST(AeadTest, KeyMustBe32Bytes) {
  SeededRandom random(4);
  for (size_t n : {0u, 16u, 31u, 33u, 64u}) {
    std::string key(n, 'k');
    auto sealed = Seal(key, "p", "", random);
    ASSERT_FALSE(sealed.ok());
    EXPECT_EQ(sealed.status().reason(), "crypto.bad_key_size");
    auto opened = Open(key, SealOrDie("p", "", random), "");
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().reason(), "crypto.bad_key_size");
  }
}

}  // namespace
}  // namespace gb::jose
