#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "jose/jose.h"
#include "jose/test_util.h"

namespace gb::jose {
namespace {

using nlohmann::json;
using testing::kRfc7515A2Jwk;
using testing::kRfc7515A2Pkcs8Pem;
using testing::kRfc7515A2Token;
using testing::TestKey;

json Rfc7515A2Jwk() { return json::parse(kRfc7515A2Jwk); }

std::string SigningInputOf(std::string_view token) {
  return std::string(token.substr(0, token.rfind('.')));
}
std::string SignatureOf(std::string_view token) {
  return *Base64UrlDecode(token.substr(token.rfind('.') + 1));
}

// A JWK with the given raw n and e.
json JwkOf(std::string_view n, std::string_view e) {
  return json{{"kty", "RSA"}, {"n", Base64UrlEncode(n)}, {"e", Base64UrlEncode(e)}};
}

// An odd "modulus" of `bytes` bytes with the top bit set.
std::string FakeModulus(size_t bytes) {
  std::string n(bytes, '\x5a');
  n.front() = '\xc3';
  n.back() = '\x01';
  return n;
}

TEST(RsaPublicKeyTest, Rfc7515A2PublishedSignatureVerifies) {
  auto key = RsaPublicKey::FromJwk(Rfc7515A2Jwk());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(key->VerifyRs256(SigningInputOf(kRfc7515A2Token), SignatureOf(kRfc7515A2Token)));
  // One changed byte of input or signature and it no longer does.
  std::string input = SigningInputOf(kRfc7515A2Token);
  input[input.size() - 1] ^= 1;
  EXPECT_FALSE(key->VerifyRs256(input, SignatureOf(kRfc7515A2Token)));
  std::string sig = SignatureOf(kRfc7515A2Token);
  sig[100] ^= 0x40;
  EXPECT_FALSE(key->VerifyRs256(SigningInputOf(kRfc7515A2Token), sig));
}

TEST(RsaPrivateKeyTest, Rfc7515A2SigningReproducesPublishedSignature) {
  // RSASSA-PKCS1-v1_5 is deterministic, so signing the RFC's input with the RFC's key must give the
  // RFC's signature byte for byte.
  auto key = RsaPrivateKey::FromPem(kRfc7515A2Pkcs8Pem);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto sig = key->SignRs256(SigningInputOf(kRfc7515A2Token));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(Base64UrlEncode(*sig),
            std::string(kRfc7515A2Token).substr(std::string(kRfc7515A2Token).rfind('.') + 1));
  // And its public half is the RFC's public key.
  json jwk = key->PublicKey().ToJwk("2010-12-29");
  EXPECT_EQ(jwk["n"], Rfc7515A2Jwk()["n"]);
  EXPECT_EQ(jwk["e"], "AQAB");
}

TEST(RsaPublicKeyTest, Rfc7638Thumbprint) {
  auto key = RsaPublicKey::FromJwk(json::parse(testing::kRfc7638Jwk));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Thumbprint(*key), testing::kRfc7638Thumbprint);
  // Optional members of the JWK do not change it, nor does a round trip through ToJwk.
  auto again = RsaPublicKey::FromJwk(key->ToJwk("another-kid"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Thumbprint(*again), testing::kRfc7638Thumbprint);
}

TEST(RsaPublicKeyTest, ToJwkHasExactlyTheDocumentedMembers) {
  json jwk = TestKey().PublicKey().ToJwk("k1");
  EXPECT_EQ(jwk.size(), 6u);
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["kid"], "k1");
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(jwk["e"], "AQAB");
  // 2048-bit modulus: 256 bytes, 342 base64url characters, no padding, no leading zero.
  EXPECT_EQ(jwk["n"].get<std::string>().size(), 342u);
  EXPECT_FALSE(jwk.contains("d"));
}

TEST(RsaPublicKeyTest, FromJwkRejectsMalformedMembers) {
  const json good = Rfc7515A2Jwk();
  auto expect_invalid = [](const json& jwk, const char* what) {
    auto key = RsaPublicKey::FromJwk(jwk);
    ASSERT_FALSE(key.ok()) << what;
    EXPECT_EQ(key.status().reason(), "jwk.invalid") << what;
    EXPECT_EQ(key.status().code(), Code::kInvalidArgument) << what;
  };
  expect_invalid(json(), "null");
  expect_invalid(json::array(), "array");
  expect_invalid(json("RSA"), "string");
  for (const char* member : {"kty", "n", "e"}) {
    json j = good;
    j.erase(member);
    expect_invalid(j, member);
    for (const json& wrong :
         {json(), json(42), json(true), json::array({"AQAB"}), json::object()}) {
      j[member] = wrong;
      expect_invalid(j, member);
    }
  }
  json j = good;
  j["kty"] = "EC";
  expect_invalid(j, "kty EC");
  j = good;
  j["kty"] = "rsa";
  expect_invalid(j, "kty lowercase");
  j = good;
  j["n"] = j["n"].get<std::string>() + "==";
  expect_invalid(j, "padded n");
  j = good;
  j["e"] = "AQAB=";
  expect_invalid(j, "padded e");
  j = good;
  std::string n = j["n"].get<std::string>();
  n[10] = '+';
  j["n"] = n;
  expect_invalid(j, "standard base64 alphabet");
  j = good;
  j["n"] = "";
  expect_invalid(j, "empty n");
  j = good;
  j["e"] = "";
  expect_invalid(j, "empty e");
  j = good;
  j["n"] = std::string(1'000'000, 'A');
  expect_invalid(j, "huge n");
  j = good;
  j["e"] = std::string(100'000, 'A');
  expect_invalid(j, "huge e");
}

TEST(RsaPublicKeyTest, FromJwkEnforcesKeyPolicy) {
  auto reason = [](std::string_view n, std::string_view e) {
    auto key = RsaPublicKey::FromJwk(JwkOf(n, e));
    return key.ok() ? std::string("ok") : key.status().reason();
  };
  const std::string e65537("\x01\x00\x01", 3);
  EXPECT_EQ(reason(FakeModulus(256), e65537), "ok");
  EXPECT_EQ(reason(FakeModulus(128), e65537), "jwk.invalid");   // 1024 bits
  EXPECT_EQ(reason(FakeModulus(255), e65537), "jwk.invalid");   // 2040 bits
  EXPECT_EQ(reason(FakeModulus(512), e65537), "ok");            // 4096 bits
  EXPECT_EQ(reason(FakeModulus(1024), e65537), "ok");           // 8192 bits
  EXPECT_EQ(reason(FakeModulus(1025), e65537), "jwk.invalid");  // over 8192 bits
  std::string even = FakeModulus(256);
  even.back() = '\x02';
  EXPECT_EQ(reason(even, e65537), "jwk.invalid");
  EXPECT_EQ(reason(FakeModulus(256), std::string("\x01", 1)), "jwk.invalid");  // e = 1
  EXPECT_EQ(reason(FakeModulus(256), std::string("\x00\x01", 2)),
            "jwk.invalid");  // e = 1, zero-padded
  EXPECT_EQ(reason(FakeModulus(256), std::string("\x01\x00\x00", 3)), "jwk.invalid");  // even
  EXPECT_EQ(reason(FakeModulus(256), std::string("\x03", 1)), "ok");
  EXPECT_EQ(reason(FakeModulus(256), std::string(9, '\x01')), "jwk.invalid");  // over 64 bits
  EXPECT_EQ(reason(FakeModulus(256), std::string(1, '\0')), "jwk.invalid");    // zero
  // A redundant leading zero octet (which some producers emit) is tolerated.
  std::string padded = std::string(1, '\0') + FakeModulus(256);
  EXPECT_EQ(reason(padded, e65537), "ok");
  // ...but does not count towards the size.
  EXPECT_EQ(reason(std::string(8, '\0') + FakeModulus(255), e65537), "jwk.invalid");
}

TEST(RsaPublicKeyTest, LeadingZeroIsNormalisedAway) {
  json jwk = TestKey().PublicKey().ToJwk("k");
  std::string n = *Base64UrlDecode(jwk["n"].get<std::string>());
  jwk["n"] = Base64UrlEncode(std::string(1, '\0') + n);
  auto key = RsaPublicKey::FromJwk(jwk);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(Thumbprint(*key), Thumbprint(TestKey().PublicKey()));
  auto sig = TestKey().SignRs256("input");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->VerifyRs256("input", *sig));
}

TEST(RsaKeyTest, SignVerifyRoundTrip) {
  const RsaPrivateKey& key = TestKey();
  ASSERT_TRUE(key.valid());
  RsaPublicKey pub = key.PublicKey();
  ASSERT_TRUE(pub.valid());
  auto sig = key.SignRs256("header.payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_TRUE(pub.VerifyRs256("header.payload", *sig));
  EXPECT_FALSE(pub.VerifyRs256("header.payloaD", *sig));
  EXPECT_FALSE(pub.VerifyRs256("header.payload", sig->substr(1)));
  EXPECT_FALSE(pub.VerifyRs256("header.payload", *sig + "x"));
  EXPECT_FALSE(pub.VerifyRs256("header.payload", ""));
  EXPECT_FALSE(pub.VerifyRs256("header.payload", std::string(256, '\0')));
  EXPECT_FALSE(pub.VerifyRs256("header.payload", std::string(256, '\xff')));
  EXPECT_FALSE(testing::OtherTestKey().PublicKey().VerifyRs256("header.payload", *sig));
  // Empty input is signable too.
  auto empty = key.SignRs256("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(pub.VerifyRs256("", *empty));
}

TEST(RsaKeyTest, DefaultConstructedKeysAreInvalidAndInert) {
  RsaPublicKey pub;
  EXPECT_FALSE(pub.valid());
  EXPECT_FALSE(pub.VerifyRs256("x", std::string(256, 'a')));
  EXPECT_TRUE(pub.ToJwk("k").is_null());
  EXPECT_EQ(pub.ToPem(), "");
  EXPECT_EQ(Thumbprint(pub), "");
  RsaPrivateKey priv;
  EXPECT_FALSE(priv.valid());
  EXPECT_FALSE(priv.PublicKey().valid());
  EXPECT_EQ(priv.ToPem(), "");
  auto sig = priv.SignRs256("x");
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.status().reason(), "key.invalid");
}

TEST(RsaKeyTest, CopiesShareTheKey) {
  RsaPrivateKey copy = TestKey();
  RsaPublicKey pub;
  pub = copy.PublicKey();
  RsaPublicKey pub2(pub);
  auto sig = copy.SignRs256("m");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(pub2.VerifyRs256("m", *sig));
  EXPECT_EQ(Thumbprint(pub2), Thumbprint(TestKey().PublicKey()));
}

TEST(RsaKeyTest, GenerateRejectsWeakOrAbsurdSizes) {
  for (int bits : {0, -1, 512, 1024, 2047, 8193, 1 << 20}) {
    auto key = RsaPrivateKey::Generate(bits);
    ASSERT_FALSE(key.ok()) << bits;
    EXPECT_EQ(key.status().reason(), "key.invalid");
  }
}

TEST(RsaKeyTest, PrivatePemRoundTrip) {
  std::string pem = TestKey().ToPem();
  EXPECT_TRUE(StartsWith(pem, "-----BEGIN PRIVATE KEY-----\n")) << "PKCS#8 expected";
  auto back = RsaPrivateKey::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Thumbprint(back->PublicKey()), Thumbprint(TestKey().PublicKey()));
  EXPECT_EQ(back->ToPem(), pem);
  EXPECT_TRUE(RsaPrivateKey::FromPem("\r\n" + pem + "\n\n").ok());
  auto sig = back->SignRs256("m");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(TestKey().PublicKey().VerifyRs256("m", *sig));
}

TEST(RsaKeyTest, PublicPemRoundTrip) {
  std::string pem = TestKey().PublicKey().ToPem();
  EXPECT_TRUE(StartsWith(pem, "-----BEGIN PUBLIC KEY-----\n"));
  auto back = RsaPublicKey::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJwk("k"), TestKey().PublicKey().ToJwk("k"));
  EXPECT_EQ(back->ToPem(), pem);
  // Surrounding whitespace is fine.
  EXPECT_TRUE(RsaPublicKey::FromPem("\n  " + pem + "\n").ok());
}

TEST(RsaKeyTest, PemReadersRefuseTheWrongKind) {
  const std::string priv = TestKey().ToPem();
  const std::string pub = TestKey().PublicKey().ToPem();
  auto p1 = RsaPublicKey::FromPem(priv);
  ASSERT_FALSE(p1.ok());
  EXPECT_EQ(p1.status().reason(), "key.invalid");
  auto p2 = RsaPrivateKey::FromPem(pub);
  ASSERT_FALSE(p2.ok());
  EXPECT_EQ(p2.status().reason(), "key.invalid");
  for (std::string_view bad :
       {std::string_view(""), std::string_view("not a pem"),
        std::string_view("-----BEGIN PRIVATE KEY-----\n"),
        std::string_view("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        std::string_view(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
        std::string_view("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")}) {
    EXPECT_FALSE(RsaPrivateKey::FromPem(bad).ok()) << bad;
    EXPECT_FALSE(RsaPublicKey::FromPem(bad).ok()) << bad;
  }
  // Truncated PEMs.
  EXPECT_FALSE(RsaPrivateKey::FromPem(priv.substr(0, priv.size() / 2)).ok());
  EXPECT_FALSE(RsaPublicKey::FromPem(pub.substr(0, pub.size() - 30)).ok());
}

TEST(RsaKeyTest, VerifyIsThreadSafe) {
  const RsaPublicKey pub = TestKey().PublicKey();
  auto sig = TestKey().SignRs256("shared input");
  ASSERT_TRUE(sig.ok());
  std::string bad_sig = *sig;
  bad_sig[7] ^= 1;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (!pub.VerifyRs256("shared input", *sig)) ++failures;
        if (pub.VerifyRs256("shared input", bad_sig)) ++failures;
        if (t == 0 && i % 10 == 0) {
          auto s = TestKey().SignRs256("other input " + std::to_string(i));
          if (!s.ok() || !pub.VerifyRs256("other input " + std::to_string(i), *s)) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace gb::jose
