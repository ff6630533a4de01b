#include "base/strings.h"

#include <gtest/gtest.h>

namespace gb {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(Base64Decode("Zm9vYg=").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v YmFy").has_value());
}

TEST(Base64UrlTest, RoundTripAndStrictness) {
  std::string bytes = "\xfb\xff\xfe hello";
  std::string enc = Base64UrlEncode(bytes);
  EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(*Base64UrlDecode(enc), bytes);
  EXPECT_FALSE(Base64UrlDecode("ab+c").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab/c").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  // Non-canonical trailing bits ("Zh" decodes to 'f' only if the low bits are zero).
  EXPECT_TRUE(Base64UrlDecode("Zg").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());
  // RFC 7515 appendix A.1 header.
  EXPECT_EQ(*Base64UrlDecode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"),
            "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
}

TEST(PercentTest, Rfc5849Encoding) {
  EXPECT_EQ(PercentEncode("a b+c~d"), "a%20b%2Bc~d");
  EXPECT_EQ(PercentEncode("\xe2\x98\x83"), "%E2%98%83");
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(*PercentDecode("a%20b+c", false), "a b+c");
  EXPECT_FALSE(PercentDecode("%2", false).has_value());
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
  EXPECT_FALSE(PercentDecode("abc%", false).has_value());
}

TEST(FormTest, ParseAndEncode) {
  auto fields = ParseForm("iss=https%3A%2F%2Fx.test&login_hint=a+b&empty=&flag");
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(*FormValue(*fields, "iss"), "https://x.test");
  EXPECT_EQ(*FormValue(*fields, "login_hint"), "a b");
  EXPECT_EQ(*FormValue(*fields, "empty"), "");
  EXPECT_EQ(*FormValue(*fields, "flag"), "");
  EXPECT_FALSE(FormValue(*fields, "missing").has_value());
  EXPECT_EQ(EncodeForm({{"a b", "c&d"}}), "a%20b=c%26d");
  EXPECT_FALSE(ParseForm("a=%ZZ").has_value());
}

TEST(EscapeTest, HtmlAndJson) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

TEST(StringsTest, Utilities) {
  EXPECT_EQ(Trim("  x y \t"), "x y");
  EXPECT_EQ(Split("a,,b", ',').size(), 3u);
  EXPECT_TRUE(EqualsIgnoreCase("Bearer", "bEARER"));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
}

TEST(FormatDecimal, ShortestReadableForm) {
  EXPECT_EQ(FormatDecimal(6.75), "6.75");
  EXPECT_EQ(FormatDecimal(10), "10");
  EXPECT_EQ(FormatDecimal(0), "0");
  EXPECT_EQ(FormatDecimal(8.125), "8.125");
  EXPECT_EQ(FormatDecimal(-0.0), "0");
  EXPECT_EQ(FormatDecimal(1.0 / 3), "0.333333");
}

}  // namespace
}  // namespace gb
