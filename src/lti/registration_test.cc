#include "lti/registration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/url.h"

namespace gb::lti {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Registration CanvasCloud() {
  Registration r;
  r.issuer = "https://canvas.instructure.com";
  r.auth_url = "https://sso.canvaslms.com/api/lti/authorize_redirect";
  r.token_url = "https://sso.canvaslms.com/login/oauth2/token";
  r.jwks_url = "https://sso.canvaslms.com/api/lti/security/jwks";
  r.family = PlatformFamily::kCanvas;
  return r;
}

bool Allows(const Registration& r, const std::string& url) {
  auto parsed = Url::Parse(url);
  EXPECT_TRUE(parsed.ok()) << url;
  return parsed.ok() && r.AllowsUrl(*parsed);
}

TEST(RegistrationTest, PolicyDefaultsAreOff) {
  Registration r;
  EXPECT_TRUE(r.service_hosts.empty());
  EXPECT_FALSE(r.final_grades_only);
  EXPECT_FALSE(r.send_comments);
  EXPECT_FALSE(r.allow_extra_credit);
}

TEST(RegistrationTest, AllowedHostsAddServiceHostsAfterTheDerivedOnesWithoutDuplicates) {
  Registration r = CanvasCloud();
  EXPECT_THAT(r.AllowedHosts(), ElementsAre("canvas.instructure.com", "sso.canvaslms.com"));
  r.service_hosts = {"school.instructure.com", "sso.canvaslms.com", "api.school.edu:8443"};
  EXPECT_THAT(r.AllowedHosts(),
              ElementsAre("canvas.instructure.com", "sso.canvaslms.com", "school.instructure.com", "api.school.edu:8443"));
}

TEST(RegistrationTest, CanvasCloudAgsUrlsNeedTheInstitutionAsServiceHost) {
  Registration r = CanvasCloud();
  const std::string ags = "https://school.instructure.com/api/lti/courses/1/line_items/7";
  EXPECT_FALSE(Allows(r, ags));
  EXPECT_TRUE(Allows(r, "https://sso.canvaslms.com/login/oauth2/token"));
  r.service_hosts = {"school.instructure.com"};
  EXPECT_TRUE(Allows(r, ags));
  EXPECT_FALSE(Allows(r, "https://other.instructure.com/api/lti/courses/1/line_items/7"));
  // Host names match exactly: no suffix or prefix games.
  EXPECT_FALSE(Allows(r, "https://school.instructure.com.evil.test/x"));
  EXPECT_FALSE(Allows(r, "https://evilschool.instructure.com/x"));
}

TEST(RegistrationTest, AServiceHostWithAPortAllowsThatPortOnly) {
  Registration r = CanvasCloud();
  r.service_hosts = {"lms.school.edu:8443"};
  EXPECT_TRUE(Allows(r, "https://lms.school.edu:8443/api/lti/x"));
  EXPECT_FALSE(Allows(r, "https://lms.school.edu/api/lti/x"));
  EXPECT_FALSE(Allows(r, "https://lms.school.edu:9443/api/lti/x"));
  // The scheme's default port counts as given.
  r.service_hosts = {"lms.school.edu:443"};
  EXPECT_TRUE(Allows(r, "https://lms.school.edu/api/lti/x"));
  // Without a port, any port on the host, as for the hosts derived from the registration's URLs.
  r.service_hosts = {"lms.school.edu"};
  EXPECT_TRUE(Allows(r, "https://lms.school.edu:8443/api/lti/x"));
}

TEST(RegistrationTest, ValidServiceHosts) {
  for (const char* h : {"school.instructure.com", "localhost", "127.0.0.1", "lms.school.edu:8443", "a-b.c9.example:1",
                        "x.example:65535"}) {
    EXPECT_TRUE(ValidateServiceHost(h).ok()) << h << ": " << ValidateServiceHost(h).ToString();
  }
}

TEST(RegistrationTest, InvalidServiceHostsSayWhatIsWrong) {
  struct Case {
    const char* host;
    const char* says;
  };
  for (const Case& c : {Case{"", "is empty"},
                        Case{"https://school.instructure.com", "bare host name"},
                        Case{"school.instructure.com/api", "bare host name"},
                        Case{"user@school.instructure.com", "bare host name"},
                        Case{"school.instructure.com?x", "bare host name"},
                        Case{"School.Instructure.com", "lowercase"},
                        Case{"[::1]:8443", "IPv6"},
                        Case{"school.edu:", "invalid port"},
                        Case{"school.edu:0", "invalid port"},
                        Case{"school.edu:65536", "invalid port"},
                        Case{"school.edu:08443", "invalid port"},
                        Case{"school.edu:https", "invalid port"},
                        Case{"school.edu:1:2", "invalid port"},
                        Case{"school..edu", "not a valid host name"},
                        Case{".school.edu", "not a valid host name"},
                        Case{"school.edu.", "not a valid host name"},
                        Case{"-school.edu", "not a valid host name"},
                        Case{"school_x.edu", "not a valid host name"},
                        Case{"school edu", "not a valid host name"},
                        Case{":8443", "1-253 characters"}}) {
    Status st = ValidateServiceHost(c.host);
    ASSERT_FALSE(st.ok()) << c.host;
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << c.host;
    EXPECT_EQ(st.reason(), "registration.bad_service_host") << c.host;
    EXPECT_THAT(st.message(), HasSubstr(c.says)) << c.host;
  }
  EXPECT_FALSE(ValidateServiceHost(std::string(64, 'a') + ".example").ok());
  EXPECT_TRUE(ValidateServiceHost(std::string(63, 'a') + ".example").ok());
}

}  // namespace
}  // namespace gb::lti
