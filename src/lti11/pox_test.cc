#include "lti11/pox.h"

#include <gtest/gtest.h>

namespace gb::lti11 {
namespace {

TEST(Pox, ReplaceResultRoundTripsWithEscapingAndCanvasExtensions) {
  PoxRequest r;
  r.message_id = "m-1";
  r.sourced_id = "a&b<c>\"d'";
  r.score = 0.92;
  r.result_data_text = "Well done & more";
  r.result_data_url = "https://tool.example/s/1?a=1&b=2";
  r.submitted_at = "2026-11-25T10:00:00Z";
  std::string xml = BuildRequest(r);
  EXPECT_NE(xml.find("<textString>0.92</textString>"), std::string::npos);
  EXPECT_NE(xml.find("a&amp;b&lt;c&gt;"), std::string::npos);
  auto back = ParseRequest(xml);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->operation, PoxOperation::kReplaceResult);
  EXPECT_EQ(back->message_id, "m-1");
  EXPECT_EQ(back->sourced_id, r.sourced_id);
  ASSERT_TRUE(back->score);
  EXPECT_DOUBLE_EQ(*back->score, 0.92);
  EXPECT_EQ(back->result_data_text, r.result_data_text);
  EXPECT_EQ(back->result_data_url, r.result_data_url);
  EXPECT_EQ(back->submitted_at, r.submitted_at);
}

TEST(Pox, ReadAndDeleteCarryOnlyTheSourcedId) {
  for (auto op : {PoxOperation::kReadResult, PoxOperation::kDeleteResult}) {
    PoxRequest r;
    r.operation = op;
    r.message_id = "x";
    r.sourced_id = "s1";
    r.score = 0.5;  // ignored for these operations
    std::string xml = BuildRequest(r);
    EXPECT_EQ(xml.find("resultScore"), std::string::npos);
    auto back = ParseRequest(xml);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->operation, op);
    EXPECT_FALSE(back->score);
  }
}

TEST(Pox, ScoresAreDecimalsFromZeroToOne) {
  EXPECT_EQ(FormatScore(0.92), "0.92");
  EXPECT_EQ(FormatScore(1.0), "1");
  EXPECT_EQ(FormatScore(1.5), "1");
  EXPECT_EQ(FormatScore(-2), "0");
  EXPECT_EQ(ParseScore(" 0.5 "), 0.5);
  EXPECT_EQ(ParseScore("1.0"), 1.0);
  EXPECT_EQ(ParseScore(".25"), 0.25);
  for (const char* bad : {"", "1.01", "-0.1", "0,5", "1e-1", "nan", "inf", "0x1", "1..0", "+0.5"}) {
    EXPECT_FALSE(ParseScore(bad)) << bad;
  }
}

TEST(Pox, ParsesPrefixedNamespacesAndRejectsBadScores) {
  std::string xml =
      "<?xml version=\"1.0\"?><x:imsx_POXEnvelopeRequest xmlns:x=\"http://www.imsglobal.org/services/ltiv1p1/xsd/"
      "imsoms_v1p0\"><x:imsx_POXBody><x:replaceResultRequest><x:resultRecord><x:sourcedGUID><x:sourcedId>s</x:sourced"
      "Id></x:sourcedGUID><x:result><x:resultScore><x:textString>1.5</x:textString></x:resultScore></x:result></x:res"
      "ultRecord></x:replaceResultRequest></x:imsx_POXBody></x:imsx_POXEnvelopeRequest>";
  auto r = ParseRequest(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "pox.bad_score");
}

TEST(Pox, UnknownOperationIsUnsupportedAndMissingSourcedIdInvalid) {
  std::string unknown =
      "<imsx_POXEnvelopeRequest><imsx_POXBody><readMembershipRequest/></imsx_POXBody></imsx_POXEnvelopeRequest>";
  EXPECT_EQ(ParseRequest(unknown).status().reason(), "pox.unknown_operation");
  EXPECT_EQ(ParseRequest(unknown).status().code(), Code::kUnsupported);
  std::string nosid =
      "<imsx_POXEnvelopeRequest><imsx_POXBody><readResultRequest><resultRecord/></readResultRequest></imsx_POXBody>"
      "</imsx_POXEnvelopeRequest>";
  EXPECT_EQ(ParseRequest(nosid).status().reason(), "pox.missing_sourcedid");
}

TEST(Pox, HostileXmlIsRefused) {
  const std::string billion_laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;\">]><imsx_POXEnvelopeRequest><imsx_POXBody><readResultRequest>"
      "<resultRecord><sourcedGUID><sourcedId>&lol3;</sourcedId></sourcedGUID></resultRecord></readResultRequest>"
      "</imsx_POXBody></imsx_POXEnvelopeRequest>";
  const std::string external =
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><imsx_POXEnvelopeRequest>"
      "<imsx_POXBody><readResultRequest><resultRecord><sourcedGUID><sourcedId>&xxe;</sourcedId></sourcedGUID>"
      "</resultRecord></readResultRequest></imsx_POXBody></imsx_POXEnvelopeRequest>";
  const std::string lower_doctype = "<!doctype x><imsx_POXEnvelopeRequest/>";
  for (const auto& xml : {billion_laughs, external, lower_doctype}) {
    auto r = ParseRequest(xml);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "pox.doctype");
    EXPECT_EQ(ParseResponse(xml).status().reason(), "pox.doctype");
  }
  // An undeclared entity reference is not expanded: it is malformed XML to pugixml or left as text,
  // never resolved.
  std::string undeclared =
      "<imsx_POXEnvelopeRequest><imsx_POXBody><readResultRequest><resultRecord><sourcedGUID><sourcedId>&xxe;"
      "</sourcedId></sourcedGUID></resultRecord></readResultRequest></imsx_POXBody></imsx_POXEnvelopeRequest>";
  auto u = ParseRequest(undeclared);
  if (u.ok()) {
    EXPECT_EQ(u->sourced_id, "&xxe;");
  }
  std::string big(kMaxPoxBytes + 1, ' ');
  EXPECT_EQ(ParseRequest(big).status().reason(), "pox.too_large");
  EXPECT_EQ(ParseRequest(big).status().code(), Code::kPayloadTooLarge);
  for (const char* bad : {"", "<", "<imsx_POXEnvelopeRequest>", "<a/>", "<imsx_POXEnvelopeRequest/><x/>",
                          "\xff\xfe<imsx_POXEnvelopeRequest/>"}) {
    auto r = ParseRequest(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().reason() == "pox.malformed") << bad << " " << r.status().ToString();
  }
}

TEST(Pox, ResponsesRoundTripIncludingReadResultAndCanvasErrorCode) {
  PoxResponse r;
  r.code_major = "success";
  r.description = "Score read";
  r.message_id = "resp-1";
  r.message_ref = "req-1";
  r.score_text = "0.75";
  auto back = ParseResponse(BuildResponse(r, PoxOperation::kReadResult));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->code_major, "success");
  EXPECT_EQ(back->message_ref, "req-1");
  EXPECT_EQ(back->operation_ref, "readResult");
  EXPECT_EQ(back->score_text, "0.75");

  PoxResponse f;
  f.code_major = "failure";
  f.severity = "error";
  f.description = "Score not between 0.0 and 1.0";
  f.canvas_error_code = "bad_score";
  auto fb = ParseResponse(BuildResponse(f, PoxOperation::kReplaceResult));
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->code_major, "failure");
  EXPECT_EQ(fb->description, f.description);
  EXPECT_EQ(fb->canvas_error_code, "bad_score");
  EXPECT_FALSE(fb->score_text);

  EXPECT_EQ(ParseResponse("<imsx_POXEnvelopeResponse/>").status().reason(), "pox.malformed");
}

}  // namespace
}  // namespace gb::lti11
