#include "sim/lti11_consumer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/gradebook.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;

// lti-digest §8.5 E, recomputed by the simulator's own OAuth code.
TEST(SimOAuth, SignatureMatchesTheReplaceResultVector) {
  FormFields p = {{"oauth_body_hash", "R3f4UtYH7ixcEWoMJwzNtdVkOcU="}, {"oauth_consumer_key", "tool-key-123"},
                  {"oauth_nonce", "abc123nonce"}, {"oauth_signature_method", "HMAC-SHA1"},
                  {"oauth_timestamp", "1700000000"}, {"oauth_version", "1.0"}};
  EXPECT_EQ(SimOAuthSignature("POST", "https://lms.example.com/lti/outcomes?course=42", p, "s3cr3t"),
            "4Ya9jcZtotG3nJTrFCJRNPCmF98=");
}

std::string Pox(const std::string& op, const std::string& sourcedid, const std::string& score = "") {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><imsx_POXEnvelopeRequest xmlns=\"http://www.imsgl"
                     "obal.org/services/ltiv1p1/xsd/imsoms_v1p0\"><imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_v"
                     "ersion>V1.0</imsx_version><imsx_messageIdentifier>m1</imsx_messageIdentifier></imsx_POXRequest"
                     "HeaderInfo></imsx_POXHeader><imsx_POXBody><" + op + "Request><resultRecord><sourcedGUID><sourc"
                     "edId>" + sourcedid + "</sourcedId></sourcedGUID>";
  if (!score.empty()) body += "<result><resultScore><language>en</language><textString>" + score +
                              "</textString></resultScore></result>";
  return body + "</resultRecord></" + op + "Request></imsx_POXBody></imsx_POXEnvelopeRequest>";
}

class SimLti11Test : public ::testing::Test {
 protected:
  void SetUp() override {
    platform = testing::MakePlatform("http://sim.test", &clock);
    ASSERT_TRUE(platform);
    for (const char* profile : {"canvas", "moodle"}) {
      ASSERT_TRUE(platform->lti11()
                      .Register({std::string(profile) + "-key", "secret", "http://tool.test/lti11/launch", profile})
                      .ok());
    }
  }
  // A launch's fields for the learner (their sourcedid included).
  FormFields Launch(const std::string& key, const std::string& mutation = "") {
    auto l = platform->lti11().BuildLaunch({key, "learner1", "rl-quiz-1", mutation});
    EXPECT_TRUE(l.ok());
    return l->second;
  }
  http::Response Outcome(const std::string& key, const std::string& body, const std::string& secret = "secret",
                         std::optional<std::string> hash = std::nullopt, const std::string& nonce = "",
                         const std::string& content_type = "application/xml") {
    FormFields o = {{"oauth_consumer_key", key},
                    {"oauth_signature_method", "HMAC-SHA1"},
                    {"oauth_timestamp", std::to_string(clock.NowSeconds())},
                    {"oauth_nonce", nonce.empty() ? "n" + std::to_string(++n) : nonce},
                    {"oauth_version", "1.0"},
                    {"oauth_body_hash", hash.value_or(Base64Encode(jose::Sha1(body)))}};
    o.emplace_back("oauth_signature", SimOAuthSignature("POST", "http://sim.test/sim/lti11/outcomes", o, secret));
    std::string header = "OAuth realm=\"\"";
    for (const auto& [k, v] : o) header += ", " + k + "=\"" + PercentEncode(v) + "\"";
    http::Request req;
    req.method = "POST";
    req.target = "/sim/lti11/outcomes";
    req.headers.Set("Authorization", header);
    req.headers.Set("Content-Type", content_type);
    req.body = body;
    return platform->lti11().HandleOutcomes(req);
  }
  static bool Has(const http::Response& r, const std::string& text) { return r.body.find(text) != std::string::npos; }

  FakeClock clock;
  std::unique_ptr<Platform> platform;
  int n = 0;
};

TEST_F(SimLti11Test, LaunchIsSignedAndCarriesTheOutcomeService) {
  FormFields f = Launch("canvas-key");
  EXPECT_EQ(FormValue(f, "lti_message_type"), "basic-lti-launch-request");
  EXPECT_EQ(FormValue(f, "user_id"), Lti11Consumers::LegacyUserId("learner1"));
  EXPECT_EQ(FormValue(f, "lis_outcome_service_url"), "http://sim.test/sim/lti11/outcomes");
  EXPECT_EQ(FormValue(f, "ext_outcome_data_values_accepted"), "url,text");
  EXPECT_EQ(SimOAuthSignature("POST", "http://tool.test/lti11/launch", f, "secret"), FormValue(f, "oauth_signature"));
  FormFields bad = Launch("canvas-key", "bad_signature");
  EXPECT_NE(SimOAuthSignature("POST", "http://tool.test/lti11/launch", bad, "secret"), FormValue(bad, "oauth_signature"));
  FormFields stale = Launch("canvas-key", "stale_timestamp");
  EXPECT_EQ(FormValue(stale, "oauth_timestamp"), std::to_string(clock.NowSeconds() - 3600));
  // An instructor has no gradebook cell.
  auto teacher = platform->lti11().BuildLaunch({"canvas-key", "instructor", "rl-quiz-1", ""});
  ASSERT_TRUE(teacher.ok());
  EXPECT_FALSE(FormValue(teacher->second, "lis_result_sourcedid"));
}

TEST_F(SimLti11Test, ReplaceReadAndDeleteResultUseTheGradebook) {
  std::string sid = *FormValue(Launch("moodle-key"), "lis_result_sourcedid");
  auto r = Outcome("moodle-key", Pox("replaceResult", sid, "0.85"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r, "<imsx_codeMajor>success</imsx_codeMajor>")) << r.body;
  auto cell = platform->gradebook().FindResult("1", "learner1");
  ASSERT_TRUE(cell && cell->score_given);
  EXPECT_DOUBLE_EQ(*cell->score_given, 8.5);  // 0.85 of the 10-point column
  auto read = Outcome("moodle-key", Pox("readResult", sid));
  EXPECT_TRUE(Has(read, "<textString>0.85</textString>")) << read.body;
  EXPECT_TRUE(Has(Outcome("moodle-key", Pox("deleteResult", sid)), "success"));
  EXPECT_FALSE(platform->gradebook().FindResult("1", "learner1")->score_given);
  EXPECT_TRUE(Has(Outcome("moodle-key", Pox("readResult", sid)), "<textString></textString>"));
}

TEST_F(SimLti11Test, RefusesLikeTheRealPlatforms) {
  std::string canvas_sid = *FormValue(Launch("canvas-key"), "lis_result_sourcedid");
  std::string moodle_sid = *FormValue(Launch("moodle-key"), "lis_result_sourcedid");
  // Canvas: 401 for signature, body hash, nonce; 415 for the content type; 422 for failures.
  EXPECT_EQ(Outcome("canvas-key", Pox("replaceResult", canvas_sid, "0.5"), "wrong").status, 401);
  EXPECT_EQ(Outcome("canvas-key", Pox("replaceResult", canvas_sid, "0.5"), "secret", "AAAA").status, 401);
  EXPECT_EQ(Outcome("canvas-key", Pox("replaceResult", canvas_sid, "0.5"), "secret", std::nullopt, "same").status, 200);
  EXPECT_EQ(Outcome("canvas-key", Pox("replaceResult", canvas_sid, "0.5"), "secret", std::nullopt, "same").status, 401);
  EXPECT_EQ(Outcome("canvas-key", Pox("replaceResult", canvas_sid, "0.5"), "secret", std::nullopt, "",
                    "application/x-www-form-urlencoded").status, 415);
  auto bad_score = Outcome("canvas-key", Pox("replaceResult", canvas_sid, "1.5"));
  EXPECT_EQ(bad_score.status, 422);
  EXPECT_TRUE(Has(bad_score, "bad_score"));
  // Moodle: every error is HTTP 200 with codeMajor failure.
  auto moodle_bad = Outcome("moodle-key", Pox("replaceResult", moodle_sid, "0.5"), "wrong");
  EXPECT_EQ(moodle_bad.status, 200);
  EXPECT_TRUE(Has(moodle_bad, "<imsx_codeMajor>failure</imsx_codeMajor>"));
  EXPECT_TRUE(Has(Outcome("moodle-key", Pox("replaceResult", moodle_sid, "-1")), "Score not between 0.0 and 1.0"));
  // Forged or foreign sourcedids.
  EXPECT_TRUE(Has(Outcome("moodle-key", Pox("replaceResult", "moodle-key:rl-quiz-1:learner2:00", "0.5")),
                  "Invalid sourcedid"));
  EXPECT_TRUE(Has(Outcome("moodle-key", Pox("replaceResult", canvas_sid, "0.5")), "Tool is invalid"));
  // Hostile XML and unknown operations.
  std::string xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                    Pox("readResult", "&x;").substr(38);
  EXPECT_TRUE(Has(Outcome("moodle-key", xxe), "DOCTYPE"));
  EXPECT_TRUE(Has(Outcome("moodle-key", Pox("readMembership", moodle_sid)), "unsupported"));
  // Only the one accepted replaceResult reached the gradebook.
  EXPECT_EQ(platform->gradebook().FindResult("1", "learner1")->history.size(), 1u);
}

TEST_F(SimLti11Test, ToolsRegisterOverJson) {
  http::Request req;
  req.method = "POST";
  req.target = "/sim/api/lti11/consumers";
  req.body = R"({"consumer_key":"k","secret":"s","launch_url":"http://tool.test/lti11/launch","profile":"canvas"})";
  auto r = platform->lti11().HandleRegister(req);
  EXPECT_EQ(r.status, 201) << r.body;
  req.body = R"({"consumer_key":"k","secret":"","launch_url":"x"})";
  EXPECT_EQ(platform->lti11().HandleRegister(req).status, 400);
  http::Request launch;
  launch.method = "GET";
  launch.target = "/sim/api/lti11/launch?consumer_key=k&user_id=learner2";
  auto j = json::parse(platform->lti11().HandleLaunchJson(launch).body);
  EXPECT_EQ(j["action"], "http://tool.test/lti11/launch");
  EXPECT_GT(j["fields"].size(), 10u);
  // The home page offers the launches.
  std::string home = platform->HandleHome(http::Request{}).body;
  EXPECT_NE(home.find("/sim/lti11/launch?consumer_key=k&amp;user_id=learner1"), std::string::npos);
}

}  // namespace
}  // namespace gb::sim
