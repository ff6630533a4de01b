#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "base/strings.h"
#include "jose/jose.h"

namespace gb::jose {
namespace {

TEST(DigestTest, Rfc4231TestCase2HmacSha256) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(DigestTest, Rfc4231TestCase6HmacSha256KeyLongerThanBlock) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(DigestTest, Rfc2202TestCase2HmacSha1) {
  EXPECT_EQ(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(DigestTest, HmacWithEmptyKeyAndData) {
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(HmacSha1("", "").size(), 20u);
}

// The HMAC context is reused per thread: every call must use its own key, never the previous one.
TEST(DigestTest, HmacRekeysOnEveryCallAndWorksOnEveryThread) {
  const std::string jefe = HexEncode(HmacSha256("Jefe", "what do ya want for nothing?"));
  EXPECT_NE(HexEncode(HmacSha256("Jeff", "what do ya want for nothing?")), jefe);
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")), jefe);
  std::string other_thread;
  std::thread t([&] { other_thread = HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")); });
  t.join();
  EXPECT_EQ(other_thread, jefe);
}

TEST(DigestTest, Sha256AndSha1) {
  // FIPS 180-2 Appendix B.1 / A.1 "abc".
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256(std::string(1 << 20, 'a')).size(), 32u);
}

}  // namespace
}  // namespace gb::jose
