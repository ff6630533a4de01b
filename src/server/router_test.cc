#include "server/router.h"

#include <gtest/gtest.h>

namespace gb::server {
namespace {

Handler Returns(std::string body) {
  return [body](const http::Request&) { return http::Response::Text(200, body); };
}

std::string Call(const Router::Match& m) {
  if (m.handler == nullptr) return "<none>";
  return (*m.handler)(http::Request{}).body;
}

TEST(RouterTest, ExactMatch) {
  Router r;
  r.Add("GET", "/healthz", Returns("health"));
  r.Add("POST", "/lti/login", Returns("login-post"));
  r.Add("GET", "/lti/login", Returns("login-get"));
  EXPECT_EQ(Call(r.Find("GET", "/healthz")), "health");
  EXPECT_EQ(Call(r.Find("GET", "/lti/login")), "login-get");
  EXPECT_EQ(Call(r.Find("POST", "/lti/login")), "login-post");
  EXPECT_EQ(Call(r.Find("GET", "/healthz/")), "<none>");
  EXPECT_EQ(Call(r.Find("GET", "/health")), "<none>");
  EXPECT_EQ(Call(r.Find("get", "/healthz")), "<none>");  // methods are case-sensitive
}

TEST(RouterTest, OptionsComeWithTheHandler) {
  Router r;
  r.Add("POST", "/big", Returns("big"), RouteOptions{.max_body_bytes = 1 << 20});
  r.Add("POST", "/small", Returns("small"));
  auto big = r.Find("POST", "/big");
  ASSERT_NE(big.options, nullptr);
  EXPECT_EQ(big.options->max_body_bytes, 1u << 20);
  EXPECT_EQ(r.Find("POST", "/small").options->max_body_bytes, 64u * 1024u);
  EXPECT_EQ(r.Find("POST", "/none").options, nullptr);
}

TEST(RouterTest, PrefixAndLongestPrefix) {
  Router r;
  r.AddPrefix("GET", "/api/", Returns("api"));
  r.AddPrefix("GET", "/api/v1/launches/", Returns("launches"));
  r.AddPrefix("GET", "/api/v1/", Returns("v1"));
  EXPECT_EQ(Call(r.Find("GET", "/api/v1/launches/abc")), "launches");
  EXPECT_EQ(Call(r.Find("GET", "/api/v1/scores/1")), "v1");
  EXPECT_EQ(Call(r.Find("GET", "/api/other")), "api");
  EXPECT_EQ(Call(r.Find("GET", "/api")), "<none>");
  EXPECT_EQ(Call(r.Find("GET", "/apix")), "<none>");
}

TEST(RouterTest, ExactBeatsPrefix) {
  Router r;
  r.AddPrefix("GET", "/api/v1/scores", Returns("prefix"));
  r.Add("GET", "/api/v1/scores", Returns("exact"));
  EXPECT_EQ(Call(r.Find("GET", "/api/v1/scores")), "exact");
  EXPECT_EQ(Call(r.Find("GET", "/api/v1/scores/7")), "prefix");
}

TEST(RouterTest, MethodMismatchIsPathKnown) {
  Router r;
  r.Add("POST", "/api/v1/scores", Returns("post"));
  r.AddPrefix("DELETE", "/api/v1/items/", Returns("delete"));
  auto m = r.Find("GET", "/api/v1/scores");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_known);
  m = r.Find("GET", "/api/v1/items/3");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_known);
  m = r.Find("GET", "/nowhere");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_known);
  m = r.Find("POST", "/api/v1/scores");
  EXPECT_NE(m.handler, nullptr);
  EXPECT_FALSE(m.path_known);
}

TEST(RouterTest, PrefixForMethodWinsOverExactForOtherMethod) {
  Router r;
  r.Add("POST", "/lti/deep-link/return", Returns("exact-post"));
  r.AddPrefix("GET", "/lti/deep-link/", Returns("prefix-get"));
  EXPECT_EQ(Call(r.Find("GET", "/lti/deep-link/return")), "prefix-get");
  EXPECT_EQ(Call(r.Find("POST", "/lti/deep-link/return")), "exact-post");
}

}  // namespace
}  // namespace gb::server
