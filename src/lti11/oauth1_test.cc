#include "lti11/oauth1.h"

#include <gtest/gtest.h>

#include <set>

namespace gb::lti11 {
namespace {

TEST(OAuth1, PercentEncodingIsRfc5849) {
  EXPECT_EQ(OAuthEncode("a b+c=d&e~f.g_h-i*"), "a%20b%2Bc%3Dd%26e~f.g_h-i%2A");
  EXPECT_EQ(OAuthEncode("é"), "%C3%A9");
}

TEST(OAuth1, BaseStringUriDropsDefaultPortsQueryAndFragment) {
  EXPECT_EQ(*BaseStringUri("HTTP://Example.COM:80/r%20v/X?id=123#frag"), "http://example.com/r%20v/X");
  EXPECT_EQ(*BaseStringUri("https://www.example.net:8080/?q=1"), "https://www.example.net:8080/");
  EXPECT_EQ(*BaseStringUri("https://lms.example.com:443/lti"), "https://lms.example.com/lti");
  EXPECT_FALSE(BaseStringUri("not a url").ok());
}

// RFC 5849 §3.4.1 worked example (lti-digest §8.5 B): normalisation, duplicates, empty values,
// '+' as space in the body, double encoding.
TEST(OAuth1, Rfc5849Section341NormalisationExample) {
  Params params = {{"b5", "=%3D"}, {"a3", "a"}, {"c@", ""}, {"a2", "r b"},  // query, decoded
                   {"c2", ""},     {"a3", "2 q"},                             // body c2&a3=2+q
                   {"oauth_consumer_key", "9djdj82h48djs9d2"}, {"oauth_token", "kkk9d7dh3k39sjv7"},
                   {"oauth_signature_method", "HMAC-SHA1"}, {"oauth_timestamp", "137131201"},
                   {"oauth_nonce", "7d8f3e4a"}, {"oauth_signature", "ignored"}, {"realm", "Example"}};
  EXPECT_EQ(NormalizeParameters(params),
            "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a"
            "&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7");
  EXPECT_EQ(SignatureBaseString("post", "http://example.com/request", params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540"
            "%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHM"
            "AC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7");
}

// RFC 5849 §1.2 temporary-credential request (lti-digest §8.5 A.1): empty token secret, like LTI.
TEST(OAuth1, Rfc5849Section12TemporaryCredentialSignature) {
  Params params = {{"oauth_consumer_key", "dpf43f3p2l4k3l03"}, {"oauth_signature_method", "HMAC-SHA1"},
                   {"oauth_timestamp", "137131200"}, {"oauth_nonce", "wIjqoS"},
                   {"oauth_callback", "http://printer.example.com/ready"}};
  std::string base = SignatureBaseString("POST", "https://photos.example.net/initiate", params);
  EXPECT_EQ(base,
            "POST&https%3A%2F%2Fphotos.example.net%2Finitiate&oauth_callback%3Dhttp%253A%252F%252Fprinter.example.com%25"
            "2Fready%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DwIjqoS%26oauth_signature_method%3DHMAC-SHA1"
            "%26oauth_timestamp%3D137131200");
  EXPECT_EQ(HmacSha1Signature(base, "kd94hf93k423kf44"), "74KNZJeDHnMBp0EMJ9ZHt/XKycU=");
}

// RFC 5849 §1.2 resource request: query parameters enter the base string; with a token secret.
TEST(OAuth1, Rfc5849Section12ResourceRequestSignature) {
  Params params = {{"file", "vacation.jpg"}, {"size", "original"}, {"oauth_consumer_key", "dpf43f3p2l4k3l03"},
                   {"oauth_token", "nnch734d00sl2jdk"}, {"oauth_signature_method", "HMAC-SHA1"},
                   {"oauth_timestamp", "137131202"}, {"oauth_nonce", "chapoH"}};
  std::string base = SignatureBaseString("GET", *BaseStringUri("http://photos.example.net/photos?file=x"), params);
  EXPECT_EQ(HmacSha1Signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"), "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
}

TEST(OAuth1, BodyHashVectors) {
  EXPECT_EQ(BodyHash("Hello World!"), "Lve95gjOVATpfV8EL5X4nxwjKHE=");
  EXPECT_EQ(BodyHash(""), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
}

// lti-digest §8.5 E: a replaceResult signed end to end.
constexpr char kBody[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><imsx_POXEnvelopeRequest xmlns=\"http://www.imsglobal.org/services/"
    "ltiv1p1/xsd/imsoms_v1p0\"><imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_version>V1.0</imsx_version><imsx_"
    "messageIdentifier>msg-0001</imsx_messageIdentifier></imsx_POXRequestHeaderInfo></imsx_POXHeader><imsx_POXBody>"
    "<replaceResultRequest><resultRecord><sourcedGUID><sourcedId>sourcedid-42</sourcedId></sourcedGUID><result><res"
    "ultScore><language>en</language><textString>0.92</textString></resultScore></result></resultRecord></replaceRe"
    "sultRequest></imsx_POXBody></imsx_POXEnvelopeRequest>";

TEST(OAuth1, LtiReplaceResultVector) {
  ASSERT_EQ(std::string(kBody).size(), 594u);
  EXPECT_EQ(BodyHash(kBody), "R3f4UtYH7ixcEWoMJwzNtdVkOcU=");
  auto header = SignBodyRequest("POST", "https://lms.example.com/lti/outcomes?course=42", kBody, "tool-key-123",
                                "s3cr3t", 1700000000, "abc123nonce");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_NE(header->find("oauth_signature=\"4Ya9jcZtotG3nJTrFCJRNPCmF98%3D\""), std::string::npos) << *header;
  EXPECT_NE(header->find("oauth_body_hash=\"R3f4UtYH7ixcEWoMJwzNtdVkOcU%3D\""), std::string::npos) << *header;
}

TEST(OAuth1, AuthorizationHeaderRoundTripsAndRejectsGarbage) {
  auto parsed = ParseAuthorizationHeader(
      "OAuth realm=\"\", oauth_consumer_key=\"k%20y\",oauth_nonce=\"n\" , oauth_signature=\"a%2Bb%3D\"");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[1].second, "k y");
  EXPECT_EQ((*parsed)[3].second, "a+b=");
  auto again = ParseAuthorizationHeader(BuildAuthorizationHeader(*parsed));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *parsed);
  for (const char* bad : {"Bearer x", "OAuth a=b", "OAuth a=\"b", "OAuth a=\"%zz\"", "OAuth a=\"b\" c=\"d\"", "OAuth"}) {
    auto r = ParseAuthorizationHeader(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "oauth.bad_header");
    }
  }
}

// Verify(): a small consumer table and an in-memory nonce set.
class VerifyTest : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1'700'000'000;
  SecretLookup secrets = [](std::string_view key) -> Result<std::string> {
    if (key == "consumer") return std::string("secret");
    return Error(Code::kNotFound, "x", "unknown");
  };
  std::set<std::string> used;
  NonceConsumer nonces = [this](std::string_view key, std::string_view nonce, int64_t) -> Status {
    if (!used.insert(std::string(key) + "|" + std::string(nonce)).second) return Error(Code::kConflict, "nonce.replayed", "");
    return Status::Ok();
  };
  VerifyOptions options{kNow, 300, false};

  SignedRequest Launch(int64_t ts, const std::string& nonce, const std::string& secret = "secret") {
    Params fields = {{"lti_message_type", "basic-lti-launch-request"}, {"user_id", "u 1"}};
    auto signed_fields = SignForm("POST", "https://tool.example/lti11/launch?x=1", fields, "consumer", secret, ts, nonce);
    EXPECT_TRUE(signed_fields.ok());
    SignedRequest r{"POST", "https://tool.example/lti11/launch?x=1", std::nullopt, *signed_fields, std::nullopt};
    return r;
  }
  std::string Reason(const SignedRequest& r) {
    auto v = Verify(r, options, secrets, nonces);
    return v.ok() ? "ok" : v.status().reason();
  }
};

TEST_F(VerifyTest, AcceptsAFreshSignedFormOnceThenRefusesTheReplay) {
  auto r = Launch(kNow - 10, "n1");
  auto v = Verify(r, options, secrets, nonces);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->consumer_key, "consumer");
  EXPECT_EQ(v->nonce, "n1");
  EXPECT_EQ(Reason(r), "oauth.nonce_replayed");
}

TEST_F(VerifyTest, EachFailureHasItsOwnReason) {
  EXPECT_EQ(Reason(Launch(kNow, "a", "wrong")), "oauth.bad_signature");
  EXPECT_EQ(Reason(Launch(kNow - 301, "b")), "oauth.stale_timestamp");
  EXPECT_EQ(Reason(Launch(kNow + 301, "c")), "oauth.stale_timestamp");
  // A forged request does not burn the nonce: the genuine one still passes.
  EXPECT_EQ(Reason(Launch(kNow, "a")), "ok");

  auto tampered = Launch(kNow, "d");
  tampered.form[1].second = "someone else";
  EXPECT_EQ(Reason(tampered), "oauth.bad_signature");
  auto other_url = Launch(kNow, "e");
  other_url.url = "https://tool.example/lti11/launch?x=2";
  EXPECT_EQ(Reason(other_url), "oauth.bad_signature");

  auto edit = [&](const std::string& name, const std::string& value) {
    auto r = Launch(kNow, "f" + name + value);
    for (auto& [n, v] : r.form) {
      if (n == name) v = value;
    }
    return Reason(r);
  };
  EXPECT_EQ(edit("oauth_signature_method", "PLAINTEXT"), "oauth.bad_signature_method");
  EXPECT_EQ(edit("oauth_version", "2.0"), "oauth.bad_version");
  EXPECT_EQ(edit("oauth_timestamp", "12x"), "oauth.bad_timestamp");
  EXPECT_EQ(edit("oauth_nonce", ""), "oauth.missing_nonce");
  EXPECT_EQ(edit("oauth_consumer_key", ""), "oauth.missing_consumer_key");
  EXPECT_EQ(edit("oauth_consumer_key", "stranger"), "oauth.unknown_consumer");

  auto dup = Launch(kNow, "g");
  dup.form.emplace_back("oauth_nonce", "h");
  EXPECT_EQ(Reason(dup), "oauth.bad_request");
}

TEST_F(VerifyTest, BodyHashIsCheckedAgainstTheRawBody) {
  const std::string url = "https://lms.example/outcomes";
  auto header = SignBodyRequest("POST", url, "<xml/>", "consumer", "secret", kNow, "b1");
  ASSERT_TRUE(header.ok());
  options.require_body_hash = true;
  SignedRequest ok{"POST", url, *header, {}, std::string("<xml/>")};
  EXPECT_EQ(Reason(ok), "ok");
  auto h2 = SignBodyRequest("POST", url, "<xml/>", "consumer", "secret", kNow, "b2");
  SignedRequest changed{"POST", url, *h2, {}, std::string("<xml />")};
  EXPECT_EQ(Reason(changed), "oauth.bad_body_hash");
  // A signature without a body hash, when one is required.
  auto fields = SignForm("POST", url, {}, "consumer", "secret", kNow, "b3");
  SignedRequest no_hash{"POST", url, BuildAuthorizationHeader(*fields), {}, std::string("<xml/>")};
  EXPECT_EQ(Reason(no_hash), "oauth.missing_body_hash");
}

}  // namespace
}  // namespace gb::lti11
