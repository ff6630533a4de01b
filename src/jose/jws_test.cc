#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/random.h"
#include "base/strings.h"
#include "jose/jose.h"
#include "jose/test_util.h"

namespace gb::jose {
namespace {

using nlohmann::json;
using testing::kRfc7515A2Token;
using testing::TestKey;

std::string B64(std::string_view s) { return Base64UrlEncode(s); }

std::string Token(std::string_view header, std::string_view payload,
                  std::string_view sig_b64 = "") {
  return B64(header) + "." + B64(payload) + "." + std::string(sig_b64);
}

// A token with `header`, signed RS256 over its own input with the test key regardless of its alg.
std::string SignedWithHeader(const json& header, const json& payload = json{{"sub", "u"}}) {
  std::string input = B64(header.dump()) + "." + B64(payload.dump());
  return input + "." + B64(*TestKey().SignRs256(input));
}

void ExpectMalformed(std::string_view token, const char* what) {
  auto jws = ParseCompact(token);
  ASSERT_FALSE(jws.ok()) << what;
  EXPECT_EQ(jws.status().reason(), "jwt.malformed") << what;
  EXPECT_EQ(jws.status().code(), Code::kInvalidArgument) << what;
}

TEST(ParseCompactTest, Rfc7515A2Token) {
  auto jws = ParseCompact(kRfc7515A2Token);
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_EQ(*jws->header, json::parse(R"({"alg":"RS256"})"));
  EXPECT_EQ((*jws->payload)["iss"], "joe");
  EXPECT_EQ((*jws->payload)["exp"], 1300819380);
  EXPECT_EQ((*jws->payload)["http://example.com/is_root"], true);
  EXPECT_EQ(jws->header_b64, "eyJhbGciOiJSUzI1NiJ9");
  EXPECT_EQ(jws->signature.size(), 256u);
  std::string token(kRfc7515A2Token);
  EXPECT_EQ(jws->SigningInput(), token.substr(0, token.rfind('.')));

  auto key = RsaPublicKey::FromJwk(json::parse(testing::kRfc7515A2Jwk));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(VerifyRs256(*jws, *key).ok());
}

TEST(ParseCompactTest, RejectsWrongSegmentCounts) {
  const std::string h = B64(R"({"alg":"RS256"})");
  const std::string p = B64(R"({"sub":"x"})");
  ExpectMalformed("", "empty");
  ExpectMalformed(".", "one dot");
  ExpectMalformed("..", "two dots only");
  ExpectMalformed("...", "three dots");
  ExpectMalformed(h, "one segment");
  ExpectMalformed(h + "." + p, "two segments");
  ExpectMalformed(h + "." + p + ".sig.extra", "four segments");
  ExpectMalformed(h + "." + p + "..", "four segments, empty");
  ExpectMalformed(h + "." + p + ".AAAA.AAAA.AAAA", "JWE-like five segments");
}

TEST(ParseCompactTest, RejectsNonBase64UrlSegments) {
  const std::string h = B64(R"({"alg":"RS256"})");
  const std::string p = B64(R"({"sub":"x"})");
  ASSERT_TRUE(ParseCompact(h + "." + p + ".AAAA").ok());
  // RFC 7515 §2: base64url without padding. {"alg":"RS256"} is 15 bytes, which pads to "==".
  ExpectMalformed(h + "==." + p + ".AAAA", "padded header");
  ExpectMalformed(h + "." + p + "=." + "AAAA", "padded payload");
  ExpectMalformed(h + "." + p + ".AAA=", "padded signature");
  ExpectMalformed(h + "." + p + ".AA+/", "standard alphabet in signature");
  ExpectMalformed(h + "." + p + ".AA AA", "space in signature");
  ExpectMalformed(" " + h + "." + p + ".AAAA", "leading space");
  ExpectMalformed(h + "." + p + ".AAAA\n", "trailing newline");
  ExpectMalformed(h + "." + p + ".A", "impossible length");
  ExpectMalformed(h + "." + p + ".AB", "non-canonical trailing bits");
  ExpectMalformed(h + "\x80." + p + ".AAAA", "non-ASCII");
}

TEST(ParseCompactTest, RejectsHeadersAndPayloadsThatAreNotJsonObjects) {
  const std::string h = R"({"alg":"RS256"})";
  ExpectMalformed(Token(h, "[1,2,3]"), "JSON array payload");
  ExpectMalformed(Token(h, "\"string\""), "JSON string payload");
  ExpectMalformed(Token(h, "42"), "number payload");
  ExpectMalformed(Token(h, "null"), "null payload");
  ExpectMalformed(Token(h, "not json"), "non-JSON payload");
  ExpectMalformed(Token(h, "{\"a\":1"), "truncated payload");
  ExpectMalformed(Token(h, "{\"a\":1} {}"), "trailing data");
  ExpectMalformed(Token(h, std::string("{\"a\":1}\0{\"a\":2}", 15)), "NUL then more JSON");
  ExpectMalformed(Token(h, std::string("{\"a\":1}\0", 8)), "trailing NUL");
  ExpectMalformed(Token(h, ""), "empty payload");
  ExpectMalformed(Token(h, "{\"a\":\"\xff\"}"), "invalid UTF-8 in payload");
  ExpectMalformed(Token("[\"RS256\"]", "{}"), "array header");
  ExpectMalformed(Token("alg=RS256", "{}"), "non-JSON header");
  ExpectMalformed(Token("", "{}"), "empty header");
  EXPECT_TRUE(ParseCompact(Token(h, "{}")).ok()) << "an empty object is an object";
}

TEST(ParseCompactTest, EnforcesTheSizeBound) {
  std::string token =
      SignedWithHeader(json{{"alg", "RS256"}}, json{{"pad", std::string(1000, 'x')}});
  auto at_limit = ParseCompact(token, token.size());
  EXPECT_TRUE(at_limit.ok());
  auto over = ParseCompact(token, token.size() - 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().reason(), "jwt.too_large");
  EXPECT_EQ(over.status().code(), Code::kPayloadTooLarge);
  // The default bound is 16 KiB, checked before any decoding.
  std::string huge(16 * 1024 + 1, 'A');
  auto big = ParseCompact(huge);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().reason(), "jwt.too_large");
  EXPECT_TRUE(
      ParseCompact(SignedWithHeader(json{{"alg", "RS256"}}, json{{"p", std::string(12000, 'x')}}))
          .ok());
}

TEST(VerifyRs256Test, SignJwtRoundTrip) {
  json claims = {{"iss", "https://tool.example"},
                 {"aud", json::array({"a", "b"})},
                 {"iat", 1700000000},
                 {"nested", {{"x", 1.5}}},
                 {"unicode", "Grüße"}};
  auto token = SignJwt(claims, TestKey(), "kid-1");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto jws = ParseCompact(*token);
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_EQ(*jws->header, (json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "kid-1"}}));
  EXPECT_EQ(*jws->payload, claims);
  EXPECT_TRUE(VerifyRs256(*jws, TestKey().PublicKey()).ok());

  auto wrong_key = VerifyRs256(*jws, testing::OtherTestKey().PublicKey());
  EXPECT_EQ(wrong_key.reason(), "jwt.bad_signature");
  EXPECT_EQ(wrong_key.code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyRs256(*jws, RsaPublicKey()).reason(), "jwt.bad_signature");
}

TEST(VerifyRs256Test, TamperedPayloadOrSignatureFails) {
  auto token = SignJwt(json{{"sub", "student"}, {"role", "Learner"}}, TestKey(), "k");
  ASSERT_TRUE(token.ok());
  const size_t dot1 = token->find('.');
  const size_t dot2 = token->rfind('.');
  // Payload swapped for another well-formed payload.
  std::string swapped = token->substr(0, dot1 + 1) +
                        B64(R"({"sub":"student","role":"Instructor"})") + token->substr(dot2);
  auto jws = ParseCompact(swapped);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyRs256(*jws, TestKey().PublicKey()).reason(), "jwt.bad_signature");
  // Header swapped (kid changed).
  std::string rekeyed = B64(R"({"alg":"RS256","kid":"other","typ":"JWT"})") + token->substr(dot1);
  jws = ParseCompact(rekeyed);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyRs256(*jws, TestKey().PublicKey()).reason(), "jwt.bad_signature");
  // Every single-bit flip of the signature fails.
  auto original = ParseCompact(*token);
  ASSERT_TRUE(original.ok());
  for (size_t i = 0; i < original->signature.size(); i += 17) {
    CompactJws copy = *original;
    copy.signature[i] ^= static_cast<char>(1 << (i % 8));
    EXPECT_EQ(VerifyRs256(copy, TestKey().PublicKey()).reason(), "jwt.bad_signature") << i;
  }
  // Truncated and empty signatures.
  CompactJws copy = *original;
  copy.signature.pop_back();
  EXPECT_EQ(VerifyRs256(copy, TestKey().PublicKey()).reason(), "jwt.bad_signature");
  copy.signature.clear();
  EXPECT_EQ(VerifyRs256(copy, TestKey().PublicKey()).reason(), "jwt.bad_signature");
}

TEST(VerifyRs256Test, AlgNoneParsesButIsRefused) {
  // RFC 7515 Appendix A.5 (unsecured JWS): empty signature segment.
  const std::string token =
      "eyJhbGciOiJub25lIn0"
      "."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
      "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
      ".";
  auto jws = ParseCompact(token);
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_TRUE(jws->signature.empty());
  Status s = VerifyRs256(*jws, TestKey().PublicKey());
  EXPECT_EQ(s.reason(), "jwt.bad_alg");
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
}

TEST(VerifyRs256Test, OnlyExactlyRs256IsAccepted) {
  // Each of these is signed with a real RS256 signature by the right key: only the header's alg is
  // wrong, so a verifier that let the header choose (or ignored it) would accept them.
  for (const json& alg : {json("HS256"), json("RS512"), json("PS256"), json("ES256"), json("none"),
                          json("rs256"), json("RS256 "), json(""), json(nullptr), json(256),
                          json::array({"RS256"}), json{{"alg", "RS256"}}}) {
    auto jws = ParseCompact(SignedWithHeader(json{{"alg", alg}, {"kid", "k"}}));
    ASSERT_TRUE(jws.ok()) << alg.dump();
    EXPECT_EQ(VerifyRs256(*jws, TestKey().PublicKey()).reason(), "jwt.bad_alg") << alg.dump();
  }
  auto missing = ParseCompact(SignedWithHeader(json{{"kid", "k"}}));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(VerifyRs256(*missing, TestKey().PublicKey()).reason(), "jwt.bad_alg");

  // HS256 key confusion: an HMAC over the input keyed with the public key's PEM.
  std::string input = B64(R"({"alg":"HS256","kid":"k"})") + "." + B64(R"({"sub":"admin"})");
  std::string forged = input + "." + B64(HmacSha256(TestKey().PublicKey().ToPem(), input));
  auto jws = ParseCompact(forged);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyRs256(*jws, TestKey().PublicKey()).reason(), "jwt.bad_alg");
  // Even relabelled as RS256 the HMAC is no signature.
  CompactJws relabelled = *jws;
  relabelled.header = std::make_shared<const json>(json{{"alg", "RS256"}});
  EXPECT_EQ(VerifyRs256(relabelled, TestKey().PublicKey()).reason(), "jwt.bad_signature");

  auto ok = ParseCompact(SignedWithHeader(json{{"alg", "RS256"}, {"kid", "k"}}));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(VerifyRs256(*ok, TestKey().PublicKey()).ok());
}

TEST(VerifyRs256Test, CriticalExtensionsAreRefused) {
  auto jws = ParseCompact(
      SignedWithHeader(json{{"alg", "RS256"}, {"crit", json::array({"b64"})}, {"b64", false}}));
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyRs256(*jws, TestKey().PublicKey()).reason(), "jwt.unsupported_crit");
}

TEST(VerifyRs256Test, DefaultConstructedJwsIsRefused) {
  CompactJws empty;
  EXPECT_EQ(VerifyRs256(empty, TestKey().PublicKey()).reason(), "jwt.bad_alg");
}

TEST(SignJwtTest, ExtraHeaderIsMergedButAlgAndKidAreOurs) {
  json extra = {{"alg", "none"}, {"kid", "attacker"}, {"typ", "dpop+jwt"}, {"x-custom", 1}};
  auto token = SignJwt(json{{"sub", "s"}}, TestKey(), "mine", extra);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto jws = ParseCompact(*token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(*jws->header,
            (json{{"alg", "RS256"}, {"kid", "mine"}, {"typ", "dpop+jwt"}, {"x-custom", 1}}));
  EXPECT_TRUE(VerifyRs256(*jws, TestKey().PublicKey()).ok());
  EXPECT_TRUE(SignJwt(json{{"sub", "s"}}, TestKey(), "mine", json()).ok())
      << "null extra header means none";
}

TEST(SignJwtTest, RefusesWhatItMustNotSign) {
  auto reason = [](const json& claims, const json& extra, const RsaPrivateKey& key) {
    auto t = SignJwt(claims, key, "k", extra);
    return t.ok() ? std::string("ok") : t.status().reason();
  };
  const json obj = json::object();
  EXPECT_EQ(reason(json::array(), obj, TestKey()), "jwt.invalid_claims");
  EXPECT_EQ(reason(json("claims"), obj, TestKey()), "jwt.invalid_claims");
  EXPECT_EQ(reason(json(), obj, TestKey()), "jwt.invalid_claims");
  EXPECT_EQ(reason(json{{"sub", "bad\xff utf8"}}, obj, TestKey()), "jwt.invalid_claims");
  EXPECT_EQ(reason(obj, json::array(), TestKey()), "jwt.invalid_header");
  for (const char* member : {"jku", "jwk", "x5u", "x5c", "crit"}) {
    EXPECT_EQ(reason(obj, json{{member, "x"}}, TestKey()), "jwt.invalid_header") << member;
  }
  EXPECT_EQ(reason(obj, obj, RsaPrivateKey()), "key.invalid");
  EXPECT_EQ(reason(obj, obj, TestKey()), "ok");
}

TEST(ParseCompactTest, RandomMutationsNeverCrashOrVerify) {
  const auto token = SignJwt(json{{"sub", "s"}, {"n", 1}}, TestKey(), "k");
  ASSERT_TRUE(token.ok());
  const RsaPublicKey pub = TestKey().PublicKey();
  SeededRandom random(42);
  int parsed = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string t = *token;
    const int edits = 1 + static_cast<int>(random.Uniform(3));
    for (int e = 0; e < edits; ++e) {
      size_t pos = random.Uniform(t.size());
      switch (random.Uniform(3)) {
        case 0:
          t[pos] = "AZaz09-_.=+/ {}\"\x80"[random.Uniform(17)];
          break;
        case 1:
          t.erase(pos, 1 + random.Uniform(4));
          break;
        default:
          t.insert(pos, 1, "A._="[random.Uniform(4)]);
          break;
      }
    }
    auto jws = ParseCompact(t);
    if (!jws.ok()) continue;
    ++parsed;
    if (t != *token) {
      EXPECT_FALSE(VerifyRs256(*jws, pub).ok()) << t;
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace gb::jose
