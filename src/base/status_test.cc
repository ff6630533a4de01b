#include "base/status.h"

#include <gtest/gtest.h>

namespace gb {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.http_status(), 200);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CodesMapToHttpStatusOnce) {
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(Code::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(Code::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(Code::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(Code::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 503);
}

TEST(StatusTest, CarriesReasonAndMessage) {
  Status s = Error(Code::kUnauthenticated, "launch.bad_signature", "The signature does not verify.");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), "launch.bad_signature");
  EXPECT_EQ(s.ToString(), "launch.bad_signature: The signature does not verify.");
  EXPECT_EQ(s.WithContext("launch").message(), "launch: The signature does not verify.");
  EXPECT_EQ(s.WithContext("launch").reason(), "launch.bad_signature");
}

Result<int> Half(int x) {
  if (x % 2) return Error(Code::kInvalidArgument, "odd", "odd number");
  return x / 2;
}

Result<int> Quarter(int x) {
  GB_ASSIGN_OR_RETURN(int h, Half(x));
  GB_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  GB_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(ResultTest, ValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(3).reason(), "odd");
  EXPECT_EQ(Quarter(6).value_or(-1), -1);
}

}  // namespace
}  // namespace gb
