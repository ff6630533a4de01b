#include "lti/oidc_login.h"

#include <gtest/gtest.h>

#include "lti/test_fakes.h"

namespace gb::lti {
namespace {

class OidcLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Registration a;
    a.id = RegistrationId("r-a");
    a.issuer = "https://canvas.instructure.com";
    a.client_id = "100";
    a.deployment_ids = {"189:x"};
    a.auth_url = "https://sso.canvaslms.com/api/lti/authorize_redirect";
    a.target_url = "https://app.tool.test/start";
    Registration b = a;
    b.id = RegistrationId("r-b");
    b.client_id = "200";
    Registration m;
    m.id = RegistrationId("r-m");
    m.issuer = "https://moodle.school.test";
    m.client_id = "abc";
    m.deployment_ids = {"1"};
    m.auth_url = "https://moodle.school.test/mod/lti/auth.php";
    for (auto* r : {&a, &b, &m}) ASSERT_TRUE(regs_.AddRegistration(*r).ok());
  }

  Result<LoginResult> Login(FormFields f) {
    auto req = LoginRequest::FromForm(f);
    if (!req.ok()) return req.status();
    OidcLogin login(regs_, codec_, clock_, random_,
                    {"https://gb.test/lti/launch", "https://gb.test", std::chrono::seconds(600)});
    return login.Start(*req);
  }

  testing::MemoryRegistrations regs_;
  LoginStateCodec codec_{"k"};
  FakeClock clock_;
  SeededRandom random_{7};
};

TEST_F(OidcLoginTest, BuildsTheAuthenticationRequestAndSealedState) {
  auto r = Login({{"iss", "https://moodle.school.test"},
                  {"login_hint", "42"},
                  {"target_link_uri", "https://gb.test/lti/launch"},
                  {"lti_message_hint", "{\"cmid\":1}"},
                  {"lti_deployment_id", "1"},
                  {"client_id", "abc"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto q = ParseForm(r->auth_url.substr(r->auth_url.find('?') + 1));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(*FormValue(*q, "scope"), "openid");
  EXPECT_EQ(*FormValue(*q, "response_type"), "id_token");
  EXPECT_EQ(*FormValue(*q, "response_mode"), "form_post");
  EXPECT_EQ(*FormValue(*q, "prompt"), "none");
  EXPECT_EQ(*FormValue(*q, "client_id"), "abc");
  EXPECT_EQ(*FormValue(*q, "redirect_uri"), "https://gb.test/lti/launch");
  EXPECT_EQ(*FormValue(*q, "login_hint"), "42");
  EXPECT_EQ(*FormValue(*q, "lti_message_hint"), "{\"cmid\":1}");
  std::string state = *FormValue(*q, "state");
  std::string nonce = *FormValue(*q, "nonce");
  EXPECT_GE(state.size(), 22u);  // >= 128 bits of base64url
  EXPECT_GE(nonce.size(), 22u);
  EXPECT_NE(state, nonce);
  EXPECT_EQ(r->cookie_name, "gb_lti_" + state);
  auto opened = codec_.Open(r->cookie_value, clock_.NowSeconds());
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->nonce, nonce);
  EXPECT_EQ(opened->registration_id, "r-m");
  EXPECT_EQ(opened->login_deployment_id, "1");
  clock_.Advance(std::chrono::seconds(601));
  EXPECT_EQ(codec_.Open(r->cookie_value, clock_.NowSeconds()).status().reason(), "launch.state_expired");
}

TEST_F(OidcLoginTest, RequiredParameters) {
  EXPECT_EQ(Login({{"login_hint", "1"}, {"target_link_uri", "https://gb.test/"}}).status().reason(), "login.missing_iss");
  EXPECT_EQ(Login({{"iss", "https://moodle.school.test"}, {"target_link_uri", "https://gb.test/"}}).status().reason(),
            "login.missing_login_hint");
  EXPECT_EQ(Login({{"iss", "https://moodle.school.test"}, {"login_hint", "1"}}).status().reason(),
            "login.missing_target_link_uri");
}

TEST_F(OidcLoginTest, RegistrationResolution) {
  FormFields base = {{"login_hint", "1"}, {"target_link_uri", "https://gb.test/x"}};
  auto with = [&](FormFields extra) {
    FormFields f = base;
    f.insert(f.end(), extra.begin(), extra.end());
    return Login(f);
  };
  // One issuer, several client_ids (Canvas Cloud): client_id decides; without it, ambiguous.
  EXPECT_EQ(with({{"iss", "https://canvas.instructure.com"}}).status().reason(), "login.ambiguous_client");
  EXPECT_TRUE(with({{"iss", "https://canvas.instructure.com"}, {"client_id", "200"}}).ok());
  EXPECT_EQ(with({{"iss", "https://canvas.instructure.com"}, {"client_id", "999"}}).status().reason(),
            "login.unknown_client");
  EXPECT_EQ(with({{"iss", "https://nobody.test"}}).status().reason(), "login.unknown_issuer");
  EXPECT_EQ(with({{"iss", "https://nobody.test"}, {"client_id", "1"}}).status().reason(), "login.unknown_issuer");
  // Issuer compared byte-exactly.
  EXPECT_EQ(with({{"iss", "https://moodle.school.test/"}}).status().reason(), "login.unknown_issuer");
  EXPECT_TRUE(with({{"iss", "https://moodle.school.test"}}).ok());
  EXPECT_EQ(with({{"iss", "https://moodle.school.test"}, {"lti_deployment_id", "7"}}).status().reason(),
            "login.unknown_deployment");
}

TEST_F(OidcLoginTest, TargetLinkUriMustPointAtThisTool) {
  auto login = [&](const std::string& target, const std::string& client) {
    return Login({{"iss", "https://canvas.instructure.com"}, {"client_id", client}, {"login_hint", "1"},
                  {"target_link_uri", target}});
  };
  EXPECT_TRUE(login("https://gb.test/lti/launch", "100").ok());
  EXPECT_TRUE(login("https://app.tool.test/deep/page", "100").ok());  // registration's target origin
  EXPECT_EQ(login("https://evil.test/", "100").status().reason(), "login.target_not_allowed");
  EXPECT_EQ(login("https://gb.test.evil.test/", "100").status().reason(), "login.target_not_allowed");
  EXPECT_EQ(login("http://gb.test/", "100").status().reason(), "login.target_not_allowed");
  EXPECT_EQ(login("javascript:alert(1)", "100").status().reason(), "login.target_not_allowed");
}

}  // namespace
}  // namespace gb::lti
