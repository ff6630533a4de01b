#include "sim/html.h"

#include <gtest/gtest.h>

#include "sim/browser.h"

namespace gb::sim {
namespace {

TEST(HtmlUnescape, DecodesNamedAndNumericReferences) {
  EXPECT_EQ(HtmlUnescape("a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#x27; &apos;f&apos;"),
            "a & b <c> \"d\" 'e' 'f'");
  EXPECT_EQ(HtmlUnescape("&#x2F;&#47;&#233;&#x1F600;"), "//\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(HtmlUnescape("&unknown; & &#xZZ; &"), "&unknown; & &#xZZ; &");
  EXPECT_EQ(HtmlUnescape("&amp;amp;"), "&amp;");
}

TEST(ParseHtmlForm, RoundTripsAutoSubmitPageWithHostileValues) {
  FormFields fields = {{"iss", "http://sim.test"},
                       {"lti_message_hint", R"({"cmid":1,"launchid":"ltilaunch1_1"})"},
                       {"weird", "<script>alert('x')</script> & \"quotes\" \xC3\xA9"},
                       {"empty", ""}};
  std::string page = AutoSubmitPage("T <&>", "http://tool.test/lti/login?a=1&b=2", "post", fields);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos) << "values must be escaped";
  auto form = ParseHtmlForm(page);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->method, "post");
  EXPECT_EQ(form->action, "http://tool.test/lti/login?a=1&b=2");
  EXPECT_EQ(form->fields, fields);
}

TEST(ParseHtmlForm, ToleratesAttributeOrderQuotesAndCase) {
  const char* html = R"(<!DOCTYPE html><html><head><title>x <form> y</title>
    <script>var s = "<form action='/evil'>";</script></head><body>
    <!-- <form action="/commented"> -->
    <FORM Method=POST ACTION='/lti/launch?x=1&amp;y=2' id=f>
      <input value='v1' type='hidden' name='state'/>
      <INPUT NAME="id_token" TYPE="HIDDEN" VALUE="a.b.c">
      <input name=plain value=unquoted>
      <input type="submit" name="go" value="Go">
      <input type="checkbox" name="off" value="1">
      <input type="checkbox" name="on" checked>
      <input type = "hidden" name = "spaced" value = "s p">
      <input type="hidden" value="no name">
      <textarea name="ta">a &amp; b</textarea>
    </form>
    <form action="/second"><input name="z" value="2"></form>)";
  auto form = ParseHtmlForm(html);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->method, "post");
  EXPECT_EQ(form->action, "/lti/launch?x=1&y=2");
  FormFields want = {{"state", "v1"}, {"id_token", "a.b.c"}, {"plain", "unquoted"},
                     {"on", "on"},    {"spaced", "s p"},     {"ta", "a & b"}};
  EXPECT_EQ(form->fields, want);
}

TEST(ParseHtmlForm, GradebridgeStyleAndDefaults) {
  auto form = ParseHtmlForm(
      R"(<form method="post" action="https://sso.example/auth"><input type="hidden" name="a" value="1"><input type="hidden" name="b" value="&quot;2&quot;"></form>)");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->fields, (FormFields{{"a", "1"}, {"b", "\"2\""}}));
  auto get_form = ParseHtmlForm("<form><input name=q value=1></form>");
  ASSERT_TRUE(get_form);
  EXPECT_EQ(get_form->method, "get");
  EXPECT_EQ(get_form->action, "");
  EXPECT_FALSE(ParseHtmlForm("<html><body>No form here</body></html>"));
  EXPECT_FALSE(ParseHtmlForm(""));
  EXPECT_FALSE(ParseHtmlForm("<"));
  EXPECT_TRUE(ParseHtmlForm("<form action=\"unterminated"));  // must not crash or hang
}

TEST(ResolveUrl, BrowserRules) {
  const std::string base = "http://tool.test:8080/lti/login?x=1#frag";
  EXPECT_EQ(ResolveUrl(base, "https://sim.test/sim/auth?a=b"), "https://sim.test/sim/auth?a=b");
  EXPECT_EQ(ResolveUrl(base, "/sim/auth?a=b"), "http://tool.test:8080/sim/auth?a=b");
  EXPECT_EQ(ResolveUrl(base, "launch"), "http://tool.test:8080/lti/launch");
  EXPECT_EQ(ResolveUrl(base, "../app/./x?y=1"), "http://tool.test:8080/app/x?y=1");
  EXPECT_EQ(ResolveUrl(base, "?q=2"), "http://tool.test:8080/lti/login?q=2");
  EXPECT_EQ(ResolveUrl(base, "//other.test/p"), "http://other.test/p");
  EXPECT_EQ(ResolveUrl(base, ""), "http://tool.test:8080/lti/login?x=1");
  EXPECT_EQ(ResolveUrl(base, "  /trim "), "http://tool.test:8080/trim");
}

TEST(SiteOf, IgnoresPortsAndSubdomains) {
  auto site = [](const char* u) { return SiteOf(*Url::Parse(u)); };
  EXPECT_EQ(site("http://127.0.0.1:1234/x"), site("http://127.0.0.1:9/y"));
  EXPECT_EQ(site("https://a.example.edu"), site("https://b.example.edu"));
  EXPECT_NE(site("http://example.edu"), site("https://example.edu"));
  EXPECT_NE(site("http://localhost:1"), site("http://127.0.0.1:1"));
}

TEST(ParseHttpDate, ImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_FALSE(ParseHttpDate("yesterday"));
}

TEST(CookieJar, PathExpiryAndDeletion) {
  CookieJar jar;
  Url tool = *Url::Parse("http://tool.test/lti/login");
  EXPECT_TRUE(jar.Set(tool, "a=1; Path=/", 1000));
  EXPECT_TRUE(jar.Set(tool, "b=2", 1000));  // default path /lti
  EXPECT_TRUE(jar.Set(tool, "c=3; Max-Age=10; Path=/", 1000));
  CookieContext same;
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://tool.test/lti/launch"), same, 1005, true), "b=2; a=1; c=3");
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://tool.test/app"), same, 1005, true), "a=1; c=3");
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://tool.test/app"), same, 1011, true), "a=1");
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://other.test/app"), same, 1005, true), "");
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://tool.test:9999/app"), same, 1005, true), "a=1; c=3")
      << "cookies ignore ports";
  EXPECT_TRUE(jar.Set(tool, "a=gone; Path=/; Max-Age=0", 1005));
  EXPECT_TRUE(jar.Set(tool, "c=x; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", 1005));
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://tool.test/app"), same, 1005, true), "");
}

TEST(CookieJar, SameSiteAndSecureLikeABrowser) {
  CookieJar jar;
  Url tool = *Url::Parse("http://tool.example.com/lti/login");
  std::string note;
  EXPECT_FALSE(jar.Set(tool, "s=1; Secure; SameSite=None", 0, &note)) << "Secure over plain http";
  EXPECT_FALSE(jar.Set(*Url::Parse("https://tool.example.com/"), "n=1; SameSite=None", 0, &note));
  EXPECT_NE(note.find("without Secure"), std::string::npos);
  Url secure_tool = *Url::Parse("https://tool.example.com/lti/login");
  EXPECT_TRUE(jar.Set(secure_tool, "none=1; Path=/; Secure; SameSite=None", 0));
  EXPECT_TRUE(jar.Set(secure_tool, "lax=1; Path=/; Secure; SameSite=Lax", 0));
  EXPECT_TRUE(jar.Set(secure_tool, "dflt=1; Path=/; Secure", 0));
  EXPECT_TRUE(jar.Set(secure_tool, "strict=1; Path=/; Secure; SameSite=Strict", 0));
  Url launch = *Url::Parse("https://tool.example.com/lti/launch");
  std::vector<std::string> withheld;
  EXPECT_EQ(jar.HeaderFor(launch, {.cross_site = true, .safe_method = false}, 1, true, &withheld), "none=1");
  EXPECT_EQ(withheld.size(), 3u);
  EXPECT_EQ(jar.HeaderFor(launch, {.cross_site = true, .safe_method = true}, 1, true), "none=1; lax=1; dflt=1");
  EXPECT_EQ(jar.HeaderFor(launch, {.cross_site = false, .safe_method = false}, 1, true),
            "none=1; lax=1; dflt=1; strict=1");
  EXPECT_EQ(jar.HeaderFor(launch, {.cross_site = true, .safe_method = false}, 1, false),
            "none=1; lax=1; dflt=1; strict=1");
  // Loopback http is a secure context for cookies.
  EXPECT_TRUE(jar.Set(*Url::Parse("http://127.0.0.1:8787/lti/login"), "gb=1; Path=/; Secure; SameSite=None", 0));
  EXPECT_EQ(jar.HeaderFor(*Url::Parse("http://127.0.0.1:8787/lti/launch"),
                          {.cross_site = true, .safe_method = false}, 1, true),
            "gb=1");
}

}  // namespace
}  // namespace gb::sim
