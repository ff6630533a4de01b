#include "platforms/lti11/outcomes_grade_sink.h"

#include <gtest/gtest.h>

#include "lti/test_http.h"
#include "lti11/oauth1.h"
#include "platforms/grade_sink_router.h"

namespace gb::platforms {
namespace {

using Kind = passback::DeliveryResult::Kind;

std::string Pox(const std::string& major, const std::string& description = "", const std::string& canvas = "") {
  lti11::PoxResponse r;
  r.code_major = major;
  r.description = description;
  r.canvas_error_code = canvas;
  return lti11::BuildResponse(r, lti11::PoxOperation::kReplaceResult);
}

class OutcomesSinkTest : public ::testing::Test {
 protected:
  OutcomesSinkTest() {
    reg.id = lti::RegistrationId("r1");
    reg.issuer = "lti11:ck";
    reg.client_id = "ck";
    reg.service_hosts = {"lms.example"};
    score.id = "s1";
    score.registration_id = reg.id;
    score.lineitem_url = "https://lms.example/outcomes?course=1";
    score.result_sourcedid = "sid-1";
    score.user_id = "u1";
    score.score_given = 7;
    score.score_maximum = 8;
  }
  passback::DeliveryResult Deliver(passback::DeliveryOptions options = {}) {
    return sink.Deliver(reg, score, options);
  }

  lti::testing::ScriptedHttpClient http;
  FakeClock clock;
  SeededRandom random{7};
  lti11::OutcomesClient client{http, clock, random};
  bool have_key = true;
  OutcomesGradeSink sink{client,
                         [this](const lti::Registration&) -> Result<lti11::ConsumerCredentials> {
                           if (!have_key) return Error(Code::kNotFound, "lti11_key.unknown", "no key");
                           return lti11::ConsumerCredentials{"ck", "cs"};
                         },
                         clock};
  lti::Registration reg;
  passback::ScoreRecord score;
};

TEST_F(OutcomesSinkTest, SendsASignedReplaceResultWithTheNormalisedScore) {
  http.Push(200, Pox("success"));
  auto r = Deliver();
  EXPECT_EQ(r.kind, Kind::kDelivered) << r.diagnosis;
  EXPECT_EQ(r.reason, "lti11.ok");
  ASSERT_EQ(http.count(), 1u);
  http::Request req = http.last();
  EXPECT_EQ(req.url, score.lineitem_url);
  EXPECT_EQ(req.headers.Get("Content-Type"), "application/xml");
  auto parsed = lti11::ParseRequest(req.body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->sourced_id, "sid-1");
  ASSERT_TRUE(parsed->score);
  EXPECT_DOUBLE_EQ(*parsed->score, 0.875);
  // What a platform would check: signature over the URL (query included) and the body hash.
  lti11::SignedRequest signed_req{"POST", req.url, req.headers.Get("Authorization"), {}, req.body};
  auto v = lti11::Verify(
      signed_req, {clock.NowSeconds(), 300, true},
      [](std::string_view) -> Result<std::string> { return std::string("cs"); },
      [](std::string_view, std::string_view, int64_t) { return Status::Ok(); });
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(sink.RateKey(reg, score), "lms.example:443 lti11:ck");
}

TEST_F(OutcomesSinkTest, ClampsExtraCreditAndSaysSo) {
  score.score_given = 10;
  http.Push(200, Pox("success"));
  auto r = Deliver();
  EXPECT_EQ(r.kind, Kind::kDelivered);
  EXPECT_NE(r.warning.find("sent as 1"), std::string::npos);
  EXPECT_DOUBLE_EQ(*lti11::ParseRequest(http.last().body)->score, 1.0);
}

TEST_F(OutcomesSinkTest, ClassifiesPlatformAnswers) {
  http.Push(200, Pox("failure", "Score not between 0.0 and 1.0"));  // Moodle: 200 + failure
  auto moodle = Deliver();
  EXPECT_EQ(moodle.kind, Kind::kPermanent);
  EXPECT_EQ(moodle.reason, "lti11.failure");
  EXPECT_NE(moodle.diagnosis.find("Score not between 0.0 and 1.0"), std::string::npos);

  http.Push(422, Pox("failure", "Course not available for student", "course_not_available"));  // Canvas
  auto canvas = Deliver();
  EXPECT_EQ(canvas.kind, Kind::kPermanent);
  EXPECT_NE(canvas.diagnosis.find("course_not_available"), std::string::npos);

  http.Push(200, Pox("unsupported"));
  EXPECT_EQ(Deliver().reason, "lti11.unsupported");
  http.Push(503, "down");
  EXPECT_EQ(Deliver().kind, Kind::kRetry);
  http.PushTransportError("http.timeout");
  auto timeout = Deliver();
  EXPECT_EQ(timeout.kind, Kind::kRetry);
  EXPECT_EQ(timeout.reason, "http.timeout");
  http.Push(429, "slow down", {{"Retry-After", "7"}});
  auto throttled = Deliver();
  EXPECT_EQ(throttled.kind, Kind::kThrottled);
  EXPECT_EQ(throttled.retry_after_seconds, 7);
  http.Push(401, "Invalid signature");
  EXPECT_EQ(Deliver().reason, "lti11.unauthorized");
  http.Push(415, "");
  EXPECT_EQ(Deliver().reason, "lti11.bad_media_type");
  http.Push(200, "<html>ok</html>");
  EXPECT_EQ(Deliver().reason, "lti11.bad_response");
}

TEST_F(OutcomesSinkTest, RefusesBeforeSendingWhenTheTargetCannotBeServed) {
  score.lineitem_url = "https://evil.example/outcomes";
  EXPECT_EQ(Deliver().reason, "lti11.host_not_allowed");
  score.lineitem_url = "https://lms.example/outcomes";
  score.score_given.reset();
  EXPECT_EQ(Deliver().reason, "lti11.no_score");
  score.score_given = 1;
  have_key = false;
  EXPECT_EQ(Deliver().reason, "lti11.no_consumer_key");
  EXPECT_EQ(http.count(), 0u);
}

TEST_F(OutcomesSinkTest, CanvasGetsTheCommentAsResultDataOnlyWhenAllowed) {
  score.comment = "Nice work";
  reg.family = lti::PlatformFamily::kCanvas;
  http.Push(200, Pox("success"));
  Deliver();
  EXPECT_TRUE(lti11::ParseRequest(http.last().body)->result_data_text.empty());
  http.Push(200, Pox("success"));
  Deliver(passback::DeliveryOptions{true});
  EXPECT_EQ(lti11::ParseRequest(http.last().body)->result_data_text, "Nice work");
}

class RecordingSink final : public passback::GradeSink {
 public:
  explicit RecordingSink(std::string name) : name_(std::move(name)) {}
  std::string RateKey(const lti::Registration&, const passback::ScoreRecord&) const override { return name_; }
  passback::DeliveryResult Deliver(const lti::Registration&, const passback::ScoreRecord&,
                                   const passback::DeliveryOptions&) override {
    passback::DeliveryResult r;
    r.reason = name_;
    return r;
  }

 private:
  std::string name_;
};

TEST(GradeSinkRouter, PicksTheSinkByTheScoresTarget) {
  RecordingSink ags("ags"), bo("lti11");
  GradeSinkRouter router(ags, bo);
  lti::Registration reg;
  passback::ScoreRecord s;
  s.lineitem_url = "https://lms.example/li/1";
  EXPECT_EQ(router.RateKey(reg, s), "ags");
  EXPECT_EQ(router.Deliver(reg, s, {}).reason, "ags");
  s.result_sourcedid = "sid";
  EXPECT_EQ(router.RateKey(reg, s), "lti11");
  EXPECT_EQ(router.Deliver(reg, s, {}).reason, "lti11");
}

}  // namespace
}  // namespace gb::platforms
