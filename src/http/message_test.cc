#include "http/message.h"

#include <gtest/gtest.h>

namespace gb::http {
namespace {

TEST(HeadersTest, CaseInsensitiveGetAndRepeats) {
  Headers h;
  h.Add("Content-Type", "text/plain");
  h.Add("Set-Cookie", "a=1");
  h.Add("set-cookie", "b=2");
  EXPECT_EQ(h.Get("content-type"), "text/plain");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "text/plain");
  EXPECT_TRUE(h.Has("SET-COOKIE"));
  EXPECT_FALSE(h.Has("Location"));
  EXPECT_EQ(h.Get("Location"), std::nullopt);
  EXPECT_EQ(h.GetAll("Set-Cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(h.entries().size(), 3u);
}

TEST(HeadersTest, SetReplacesAllAndRemove) {
  Headers h;
  h.Add("X-A", "1");
  h.Add("x-a", "2");
  h.Add("Other", "o");
  h.Set("X-a", "3");
  EXPECT_EQ(h.GetAll("x-a"), (std::vector<std::string>{"3"}));
  h.Remove("X-A");
  EXPECT_FALSE(h.Has("x-a"));
  EXPECT_EQ(h.Get("other"), "o");
}

TEST(RequestTest, PathAndQueryFromTarget) {
  Request r;
  r.target = "/lti/login?iss=https%3A%2F%2Fcanvas&login_hint=42";
  EXPECT_EQ(r.Path(), "/lti/login");
  EXPECT_EQ(r.Query(), "iss=https%3A%2F%2Fcanvas&login_hint=42");
  r.target = "/healthz";
  EXPECT_EQ(r.Path(), "/healthz");
  EXPECT_EQ(r.Query(), "");
  r.target = "/x?";
  EXPECT_EQ(r.Path(), "/x");
  EXPECT_EQ(r.Query(), "");
}

TEST(RequestTest, PathAndQueryFromUrlOnClientSide) {
  Request r;
  r.url = "https://canvas.example.edu/api/lti/courses/1/line_items?per_page=10#frag";
  EXPECT_EQ(r.Path(), "/api/lti/courses/1/line_items");
  EXPECT_EQ(r.Query(), "per_page=10");
  r.url = "https://canvas.example.edu";
  EXPECT_EQ(r.Path(), "/");
  EXPECT_EQ(r.Query(), "");
  r.url = "https://canvas.example.edu?x=1";
  EXPECT_EQ(r.Path(), "/");
  EXPECT_EQ(r.Query(), "x=1");
}

TEST(ResponseTest, Factories) {
  Response j = Response::Json(201, "{}");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.headers.Get("Content-Type"), "application/json; charset=utf-8");
  EXPECT_FALSE(j.headers.Has("Cache-Control"));
  EXPECT_EQ(j.body, "{}");

  Response h = Response::Html(200, "<p>hi</p>");
  EXPECT_EQ(h.headers.Get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(h.headers.Get("Cache-Control"), "no-store");

  Response t = Response::Text(503, "down");
  EXPECT_EQ(t.headers.Get("Content-Type"), "text/plain; charset=utf-8");

  Response r = Response::Redirect("https://tool.example/app?t=1");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.headers.Get("Location"), "https://tool.example/app?t=1");
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Response::Redirect("/x", 302).status, 302);
  EXPECT_EQ(Response::Redirect("/x", 200).status, 303);  // not a redirect status
}

Headers LinkHeaders(std::initializer_list<std::string> values) {
  Headers h;
  for (const auto& v : values) h.Add("Link", v);
  return h;
}

TEST(FindLinkTest, CanvasCommaSeparatedWithoutSpaces) {
  Headers h = LinkHeaders(
      {"<https://canvas.example.edu/api/lti/courses/1/line_items?page=1&per_page=10>; rel=\"current\","
       "<https://canvas.example.edu/api/lti/courses/1/line_items?page=2&per_page=10>; rel=\"next\","
       "<https://canvas.example.edu/api/lti/courses/1/line_items?page=1&per_page=10>; rel=\"first\","
       "<https://canvas.example.edu/api/lti/courses/1/line_items?page=5&per_page=10>; rel=\"last\""});
  EXPECT_EQ(FindLink(h, "next"), "https://canvas.example.edu/api/lti/courses/1/line_items?page=2&per_page=10");
  EXPECT_EQ(FindLink(h, "last"), "https://canvas.example.edu/api/lti/courses/1/line_items?page=5&per_page=10");
  EXPECT_EQ(FindLink(h, "prev"), std::nullopt);
}

TEST(FindLinkTest, MoodleCurlyQuotes) {
  Headers h = LinkHeaders(
      {"<https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=0>; "
       "rel=\xE2\x80\x9C" "first\xE2\x80\x9D, "
       "<https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=2>; "
       "rel=\xE2\x80\x9C" "next\xE2\x80\x9D, "
       "<https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=8>; "
       "rel=\xE2\x80\x9C" "last\xE2\x80\x9D"});
  EXPECT_EQ(FindLink(h, "next"), "https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=2");
  EXPECT_EQ(FindLink(h, "last"), "https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=8");
  EXPECT_EQ(FindLink(h, "prev"), std::nullopt);
}

TEST(FindLinkTest, D2LSeparateHeadersAndStandardForm) {
  Headers h = LinkHeaders({"<https://school.brightspace.com/d2l/api/lti/1.3/x/lineitems?page=1>; rel=\"prev\"",
                           "<https://school.brightspace.com/d2l/api/lti/1.3/x/lineitems?page=3>; rel=\"next\""});
  EXPECT_EQ(FindLink(h, "next"), "https://school.brightspace.com/d2l/api/lti/1.3/x/lineitems?page=3");
  EXPECT_EQ(FindLink(h, "prev"), "https://school.brightspace.com/d2l/api/lti/1.3/x/lineitems?page=1");
}

TEST(FindLinkTest, SeveralRelsInOneValueAndCaseInsensitive) {
  Headers h = LinkHeaders({"<https://x.example/p?page=9>; rel=\"next last\""});
  EXPECT_EQ(FindLink(h, "next"), "https://x.example/p?page=9");
  EXPECT_EQ(FindLink(h, "last"), "https://x.example/p?page=9");
  EXPECT_EQ(FindLink(h, "NEXT"), "https://x.example/p?page=9");
  Headers h2 = LinkHeaders({"<https://x.example/a>;REL=Next"});
  EXPECT_EQ(FindLink(h2, "next"), "https://x.example/a");
}

TEST(FindLinkTest, OtherParamsQuotedCommasAndUrlVerbatim) {
  Headers h = LinkHeaders(
      {"<https://x.example/a?q=1,2>; title=\"a, b; c\"; rel=\"prev\", "
       "<https://x.example/b?cursor=%2Fabc&x=1>; type=\"application/json\"; rel=next"});
  EXPECT_EQ(FindLink(h, "prev"), "https://x.example/a?q=1,2");
  EXPECT_EQ(FindLink(h, "next"), "https://x.example/b?cursor=%2Fabc&x=1");
}

TEST(FindLinkTest, MalformedInputIsTolerated) {
  EXPECT_EQ(FindLink(LinkHeaders({""}), "next"), std::nullopt);
  EXPECT_EQ(FindLink(LinkHeaders({"garbage"}), "next"), std::nullopt);
  EXPECT_EQ(FindLink(LinkHeaders({"<https://x.example/unterminated; rel=\"next\""}), "next"), std::nullopt);
  EXPECT_EQ(FindLink(LinkHeaders({"junk, <https://x.example/ok>; rel=\"next\""}), "next"), "https://x.example/ok");
  EXPECT_EQ(FindLink(LinkHeaders({"<https://x.example/a>; rel=\"nextish\""}), "next"), std::nullopt);
  EXPECT_EQ(FindLink(LinkHeaders({"<https://x.example/a>; rel="}), "next"), std::nullopt);
  EXPECT_EQ(FindLink(LinkHeaders({"<https://x.example/a>; rel=\xE2\x80\x9Cnext"}), "next"), "https://x.example/a");
  Headers none;
  none.Add("Content-Type", "<https://x.example/a>; rel=\"next\"");
  EXPECT_EQ(FindLink(none, "next"), std::nullopt);
}

TEST(CookieTest, GetCookie) {
  Headers h;
  h.Add("Cookie", "a=1; gb_state=abc-DEF_123;  b = 2 ");
  h.Add("cookie", "late=x");
  EXPECT_EQ(GetCookie(h, "gb_state"), "abc-DEF_123");
  EXPECT_EQ(GetCookie(h, "a"), "1");
  EXPECT_EQ(GetCookie(h, "b"), "2");
  EXPECT_EQ(GetCookie(h, "late"), "x");
  EXPECT_EQ(GetCookie(h, "A"), std::nullopt);  // names are case-sensitive
  EXPECT_EQ(GetCookie(h, "missing"), std::nullopt);
  Headers empty;
  EXPECT_EQ(GetCookie(empty, "a"), std::nullopt);
}

TEST(CookieTest, BuildSetCookieDefaults) {
  EXPECT_EQ(BuildSetCookie("gb_state", "v1", {}), "gb_state=v1; Path=/; Secure; HttpOnly; SameSite=None");
}

TEST(CookieTest, BuildSetCookieOptions) {
  CookieOptions o;
  o.path = "/lti";
  o.max_age_seconds = 600;
  o.same_site = "strict";
  EXPECT_EQ(BuildSetCookie("s", "x", o), "s=x; Path=/lti; Max-Age=600; Secure; HttpOnly; SameSite=Strict");
  o.max_age_seconds = 0;
  o.http_only = false;
  o.same_site = "";
  EXPECT_EQ(BuildSetCookie("s", "", o), "s=; Path=/lti; Max-Age=0; Secure");
}

TEST(CookieTest, SameSiteNoneWithoutSecureFallsBackToLax) {
  CookieOptions o;
  o.secure = false;
  o.same_site = "None";
  EXPECT_EQ(BuildSetCookie("s", "x", o), "s=x; Path=/; HttpOnly; SameSite=Lax");
}

TEST(CookieTest, UnsafeCharactersAreEncoded) {
  CookieOptions o;
  std::string c = BuildSetCookie("a;b", "x\r\nSet-Cookie: evil=1; y", o);
  EXPECT_EQ(c.find('\r'), std::string::npos);
  EXPECT_EQ(c.find('\n'), std::string::npos);
  EXPECT_EQ(c.substr(0, c.find(';')), "a%3Bb=x%0D%0ASet-Cookie:%20evil=1%3B%20y");
}

}  // namespace
}  // namespace gb::http
