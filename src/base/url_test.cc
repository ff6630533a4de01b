#include "base/url.h"

#include <gtest/gtest.h>

namespace gb {
namespace {

TEST(UrlTest, ParsesComponents) {
  auto u = Url::Parse("HTTPS://LMS.Example.edu:8443/mod/lti/services.php/2/lineitem?type_id=1#f");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "lms.example.edu");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/mod/lti/services.php/2/lineitem");
  EXPECT_EQ(u->query, "type_id=1");
  EXPECT_EQ(u->fragment, "f");
  EXPECT_EQ(u->Origin(), "https://lms.example.edu:8443");
  EXPECT_EQ(u->Authority(), "lms.example.edu:8443");
}

TEST(UrlTest, DefaultsPortAndPath) {
  auto u = Url::Parse("https://canvas.instructure.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->Origin(), "https://canvas.instructure.com");
}

TEST(UrlTest, ScoresSuffixGoesBeforeQuery) {
  auto u = Url::Parse("https://moodle.test/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->WithPathSuffix("/scores"),
            "https://moodle.test/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1");
  auto c = Url::Parse("https://canvas.test/api/lti/courses/1/line_items/7");
  EXPECT_EQ(c->WithPathSuffix("/scores"), "https://canvas.test/api/lti/courses/1/line_items/7/scores");
  EXPECT_EQ(c->WithQueryParam("user_id", "a b"),
            "https://canvas.test/api/lti/courses/1/line_items/7?user_id=a%20b");
}

TEST(UrlTest, RejectsHostileInput) {
  EXPECT_FALSE(Url::Parse("javascript:alert(1)").ok());
  EXPECT_FALSE(Url::Parse("ftp://x.test/").ok());
  EXPECT_FALSE(Url::Parse("https://user:pw@x.test/").ok());
  EXPECT_FALSE(Url::Parse("https://x.test/a b").ok());
  EXPECT_FALSE(Url::Parse("https://x.test:99999/").ok());
  EXPECT_FALSE(Url::Parse("https://:443/").ok());
  EXPECT_FALSE(Url::Parse("https://x.test\r\nHost: evil/").ok());
  EXPECT_EQ(Url::Parse("nope").status().reason(), "url.invalid");
}

TEST(UrlTest, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.evil.test"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

}  // namespace
}  // namespace gb
