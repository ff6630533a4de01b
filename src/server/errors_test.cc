#include "server/errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gb::server {
namespace {

TEST(ErrorsTest, JsonErrorUsesReasonAndMessage) {
  auto r = JsonError(Error(Code::kNotFound, "registration.unknown", "No registration for that issuer."));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json; charset=utf-8");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"], "registration.unknown");
  EXPECT_EQ(j["message"], "No registration for that issuer.");
}

TEST(ErrorsTest, JsonErrorFallsBackToCodeNameAndDefaultMessage) {
  auto r = JsonError(Error(Code::kResourceExhausted, "", ""));
  EXPECT_EQ(r.status, 429);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"], "resource_exhausted");
  EXPECT_EQ(j["message"], std::string(DefaultMessageFor(Code::kResourceExhausted)));
}

TEST(ErrorsTest, JsonErrorEscapesAndSurvivesBadUtf8) {
  auto r = JsonError(Error(Code::kInvalidArgument, "x", "quote \" and \xff byte"));
  EXPECT_EQ(r.status, 400);
  auto j = nlohmann::json::parse(r.body);  // must be valid JSON
  EXPECT_EQ(j["error"], "x");
}

TEST(ErrorsTest, OkStatusIsAnInternalError) {
  auto r = JsonError(Status::Ok());
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"internal","message":"An internal error occurred."})");
}

TEST(ErrorsTest, ProtocolLevelJsonError) {
  auto r = JsonError(405, "http.method_not_allowed", "nope");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, R"({"error":"http.method_not_allowed","message":"nope"})");
}

TEST(ErrorsTest, HtmlErrorIsEscapedAndReadable) {
  auto r = HtmlError(Error(Code::kUnauthenticated, "launch.bad_signature", "The <launch> couldn't be verified."),
                     "Launch failed & <b>");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.Get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
  EXPECT_NE(r.body.find("<title>Launch failed &amp; &lt;b&gt;</title>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("The &lt;launch&gt; couldn&#39;t be verified."), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("launch.bad_signature"), std::string::npos);
  EXPECT_EQ(r.body.find("<launch>"), std::string::npos);
}

}  // namespace
}  // namespace gb::server
