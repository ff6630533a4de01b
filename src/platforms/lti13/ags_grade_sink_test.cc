// AgsGradeSink against a scripted platform: what goes on the wire and how answers are mapped.
#include "platforms/lti13/ags_grade_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "lti/claims.h"
#include "lti/test_fakes.h"
#include "lti/test_http.h"

namespace gb::platforms {
namespace {

using nlohmann::json;
using passback::DeliveryResult;
using Kind = DeliveryResult::Kind;

constexpr char kItems[] = "https://moodle.school.edu/mod/lti/services.php/2/lineitems?type_id=1";
constexpr char kItem[] = "https://moodle.school.edu/mod/lti/services.php/2/lineitems/3/lineitem?type_id=1";

http::Response Answer(int status, std::string body, std::string content_type = "application/json") {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.Add("Content-Type", content_type);
  return r;
}

class AgsGradeSinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_store_ = new lti::testing::MemoryKeys;
    key_clock_ = new FakeClock;
    ring_ = new lti::KeyRing(*key_store_, std::string(32, 'k'), *key_clock_, SecureRandom::Instance());
    ASSERT_TRUE(ring_->Load().ok());
  }
  static void TearDownTestSuite() {
    delete ring_;
    delete key_clock_;
    delete key_store_;
  }

  void SetUp() override {
    registration_.id = lti::RegistrationId("reg-moodle");
    registration_.issuer = "https://moodle.school.edu";
    registration_.client_id = "AbCdEf";
    registration_.deployment_ids = {"1"};
    registration_.auth_url = "https://moodle.school.edu/mod/lti/auth.php";
    registration_.token_url = "https://moodle.school.edu/mod/lti/token.php";
    registration_.jwks_url = "https://moodle.school.edu/mod/lti/certs.php";
    registration_.family = lti::PlatformFamily::kMoodle;
    // A platform: tokens for any scope, one line items container, scores accepted with 200.
    http_.SetHandler([this](const http::Request& req) -> Result<http::Response> {
      if (req.url == registration_.token_url) {
        auto form = ParseForm(req.body).value_or(FormFields{});
        return Answer(200, json{{"access_token", "tok"}, {"token_type", "Bearer"}, {"expires_in", 3600},
                                {"scope", FormValue(form, "scope").value_or("")}}
                               .dump());
      }
      if (req.method == "GET" && req.url.starts_with(std::string(kItems).substr(0, 50)) &&
          req.url.find("/lineitems?") != std::string::npos) {
        ++lists_;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let concurrent callers pile up
        json items = json::array();
        std::lock_guard lock(mu_);
        for (const auto& item : created_) items.push_back(item);
        return Answer(200, items.dump(), lti::kMediaTypeLineItemContainer);
      }
      if (req.method == "POST" && req.url == kItems) {
        json item = json::parse(req.body);
        std::lock_guard lock(mu_);
        item["id"] = "https://moodle.school.edu/mod/lti/services.php/2/lineitems/" +
                     std::to_string(10 + created_.size()) + "/lineitem?type_id=1";
        created_.push_back(item);
        return Answer(201, item.dump(), lti::kMediaTypeLineItem);
      }
      if (req.method == "GET" && req.url == kItem) {
        return Answer(200, json{{"id", kItem}, {"scoreMaximum", column_max_}, {"label", "Quiz"}}.dump(),
                      lti::kMediaTypeLineItem);
      }
      if (req.method == "POST" && req.url.find("/scores") != std::string::npos) {
        std::lock_guard lock(mu_);
        scores_.push_back(req);
        return Answer(score_status_, "", "text/plain");
      }
      return Answer(404, "no route");
    });
  }

  passback::ScoreRecord Score() {
    passback::ScoreRecord s;
    s.id = "s1";
    s.registration_id = registration_.id;
    s.lineitem_url = kItem;
    s.user_id = "u1";
    s.score_given = 27;
    s.score_maximum = 40;
    s.comment = "see me";
    s.timestamp_ms = 1'700'000'000'123;
    return s;
  }

  static lti::testing::MemoryKeys* key_store_;
  static FakeClock* key_clock_;
  static lti::KeyRing* ring_;
  FakeClock clock_;
  lti::Registration registration_;
  lti::testing::ScriptedHttpClient http_;
  lti::ServiceTokenClient tokens_{http_, *ring_, clock_, SecureRandom::Instance()};
  lti::AgsClient ags_{http_, tokens_};
  AgsGradeSink sink_{ags_, clock_};
  std::mutex mu_;
  std::vector<json> created_;
  std::vector<http::Request> scores_;
  std::atomic<int> lists_{0};
  int score_status_ = 200;
  double column_max_ = 40;
};
lti::testing::MemoryKeys* AgsGradeSinkTest::key_store_ = nullptr;
FakeClock* AgsGradeSinkTest::key_clock_ = nullptr;
lti::KeyRing* AgsGradeSinkTest::ring_ = nullptr;

TEST_F(AgsGradeSinkTest, PostsTheScoreAsGivenWithoutTheCommentByDefault) {
  DeliveryResult r = sink_.Deliver(registration_, Score(), {});
  ASSERT_EQ(r.kind, Kind::kDelivered) << r.diagnosis;
  EXPECT_EQ(r.lineitem_url, kItem);
  EXPECT_TRUE(r.warning.empty()) << r.warning;
  ASSERT_EQ(scores_.size(), 1u);
  // Moodle's query string stays after /scores.
  EXPECT_EQ(scores_[0].url, "https://moodle.school.edu/mod/lti/services.php/2/lineitems/3/lineitem/scores?type_id=1");
  json body = json::parse(scores_[0].body);
  EXPECT_EQ(body["scoreGiven"].get<double>(), 27);  // not rescaled
  EXPECT_EQ(body["scoreMaximum"].get<double>(), 40);
  EXPECT_FALSE(body.contains("comment"));  // privacy default
  EXPECT_EQ(body["timestamp"], "2023-11-14T22:13:20.123Z");

  DeliveryResult with_comment = sink_.Deliver(registration_, Score(), {.include_comment = true});
  ASSERT_EQ(with_comment.kind, Kind::kDelivered);
  EXPECT_EQ(json::parse(scores_[1].body)["comment"], "see me");
}

TEST_F(AgsGradeSinkTest, WarnsWhenTheColumnMaximumDiffers) {
  column_max_ = 10;
  DeliveryResult r = sink_.Deliver(registration_, Score(), {});
  ASSERT_EQ(r.kind, Kind::kDelivered);
  EXPECT_NE(r.warning.find("maximum (40) differs from the line item's scoreMaximum (10)"), std::string::npos)
      << r.warning;
  EXPECT_NE(r.warning.find("shows 6.75 of 10"), std::string::npos) << r.warning;
}

TEST_F(AgsGradeSinkTest, FindsOrCreatesOneLineItemPerResourceLinkUnderConcurrency) {
  std::vector<std::thread> threads;
  std::atomic<int> delivered{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto s = Score();
      s.lineitem_url.clear();
      s.lineitems_url = kItems;
      s.resource_link_id = "rl-essay";
      s.user_id = "u" + std::to_string(i);
      if (sink_.Deliver(registration_, s, {}).kind == Kind::kDelivered) ++delivered;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(delivered.load(), 8);
  ASSERT_EQ(created_.size(), 1u);  // one column, not one per learner
  EXPECT_EQ(created_[0]["resourceLinkId"], "rl-essay");
  EXPECT_EQ(created_[0]["scoreMaximum"].get<double>(), 40);
  EXPECT_EQ(lists_.load(), 1);  // remembered after the first resolution
  // A fresh sink (another process) finds the existing item instead of creating a second one.
  AgsGradeSink other(ags_, clock_);
  auto s = Score();
  s.lineitem_url.clear();
  s.lineitems_url = kItems;
  s.resource_link_id = "rl-essay";
  DeliveryResult r = other.Deliver(registration_, s, {});
  ASSERT_EQ(r.kind, Kind::kDelivered) << r.diagnosis;
  EXPECT_EQ(r.lineitem_url, created_[0]["id"]);
  EXPECT_EQ(created_.size(), 1u);
}

TEST_F(AgsGradeSinkTest, MapsPlatformAnswers) {
  score_status_ = 409;  // Moodle: a score at least as new is already stored
  EXPECT_EQ(sink_.Deliver(registration_, Score(), {}).kind, Kind::kAlreadyApplied);
  score_status_ = 503;
  EXPECT_EQ(sink_.Deliver(registration_, Score(), {}).kind, Kind::kRetry);
  score_status_ = 429;
  EXPECT_EQ(sink_.Deliver(registration_, Score(), {}).kind, Kind::kThrottled);
  score_status_ = 400;
  DeliveryResult bad = sink_.Deliver(registration_, Score(), {});
  EXPECT_EQ(bad.kind, Kind::kPermanent);
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_FALSE(bad.diagnosis.empty());
}

TEST_F(AgsGradeSinkTest, RefusesHostsOutsideTheRegistrationWithoutSendingAnything) {
  auto s = Score();
  s.lineitem_url = "https://attacker.example/lineitems/1";
  size_t before = http_.count();
  DeliveryResult r = sink_.Deliver(registration_, s, {});
  EXPECT_EQ(r.kind, Kind::kPermanent);
  EXPECT_EQ(r.reason, "service.host_not_allowed");
  EXPECT_EQ(http_.count(), before);
}

TEST_F(AgsGradeSinkTest, NoTargetIsAPermanentErrorWithAReason) {
  auto s = Score();
  s.lineitem_url.clear();
  DeliveryResult r = sink_.Deliver(registration_, s, {});
  EXPECT_EQ(r.kind, Kind::kPermanent);
  EXPECT_EQ(r.reason, "ags.no_line_item");
}

TEST_F(AgsGradeSinkTest, RateKeyIsThePlatformHostAndClientId) {
  EXPECT_EQ(sink_.RateKey(registration_, Score()), "moodle.school.edu:443 AbCdEf");
}

}  // namespace
}  // namespace gb::platforms
