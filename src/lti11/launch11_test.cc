#include "lti11/launch11.h"

#include <gtest/gtest.h>

namespace gb::lti11 {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr char kUrl[] = "https://tool.example/lti11/launch";

Params BaseFields() {
  return {{"lti_message_type", "basic-lti-launch-request"},
          {"lti_version", "LTI-1p0"},
          {"resource_link_id", "rl-1"},
          {"resource_link_title", "Quiz 1"},
          {"user_id", "u-42"},
          {"roles", "Instructor,urn:lti:role:ims/lis/TeachingAssistant,urn:lti:instrole:ims/lis/Faculty"},
          {"context_id", "c-7"},
          {"context_title", "Biology"},
          {"lis_person_name_full", "Ada L"},
          {"custom_chapter", "3"},
          {"ext_outcome_data_values_accepted", "url,text"},
          {"lis_outcome_service_url", "https://lms.example/outcomes"},
          {"lis_result_sourcedid", "sid-1"}};
}

Result<VerifiedLaunch> VerifySigned(const Params& fields, const std::string& nonce) {
  auto signed_fields = SignForm("POST", kUrl, fields, "ck", "cs", kNow, nonce);
  EXPECT_TRUE(signed_fields.ok());
  SignedRequest req{"POST", kUrl, std::nullopt, *signed_fields, std::nullopt};
  return VerifyLaunch(
      req, VerifyOptions{kNow, 300, false},
      [](std::string_view k) -> Result<std::string> {
        if (k == "ck") return std::string("cs");
        return Error(Code::kNotFound, "x", "");
      },
      [](std::string_view, std::string_view, int64_t) { return Status::Ok(); });
}

TEST(Lti11Launch, NormalisesIntoTheLaunchRecord) {
  auto v = VerifySigned(BaseFields(), "n1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  lti::Registration reg;
  reg.id = lti::RegistrationId("r1");
  reg.tenant_id = lti::TenantId("t1");
  reg.issuer = "lti11:ck";
  reg.client_id = "ck";
  lti::Launch l = ToLaunch(*v, reg, "L1", kNow);
  EXPECT_EQ(l.lti_version, "1.1");
  EXPECT_EQ(l.message_type, "basic-lti-launch-request");
  EXPECT_EQ(l.user.id, "u-42");
  EXPECT_EQ(l.lti11_user_id, "u-42");
  EXPECT_EQ(l.user.name, "Ada L");
  ASSERT_EQ(l.roles.size(), 3u);
  EXPECT_EQ(l.roles[0], "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor");
  EXPECT_EQ(l.roles[2], "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty");
  EXPECT_TRUE(l.is_instructor);
  EXPECT_FALSE(l.is_learner);
  ASSERT_TRUE(l.context);
  EXPECT_EQ(l.context->id, "c-7");
  ASSERT_TRUE(l.resource_link);
  EXPECT_EQ(l.resource_link->id, "rl-1");
  EXPECT_EQ(l.custom.at("chapter"), "3");
  EXPECT_EQ(l.custom.at("ext_outcome_data_values_accepted"), "url,text");
  ASSERT_TRUE(l.basic_outcome);
  EXPECT_EQ(l.basic_outcome->service_url, "https://lms.example/outcomes");
  EXPECT_EQ(l.basic_outcome->sourcedid, "sid-1");
  auto round = lti::Launch::FromJson(l.ToJson());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->lti_version, "1.1");
  EXPECT_EQ(round->lti11_user_id, "u-42");
  ASSERT_TRUE(round->basic_outcome);
  EXPECT_EQ(round->basic_outcome->sourcedid, "sid-1");
}

TEST(Lti11Launch, RefusesWrongMessageTypeVersionAndMissingLink) {
  auto with = [](const std::string& name, const std::string& value) {
    Params f = BaseFields();
    for (auto& [n, v] : f) {
      if (n == name) v = value;
    }
    return f;
  };
  EXPECT_EQ(VerifySigned(with("lti_message_type", "ContentItemSelectionRequest"), "a").status().reason(),
            "lti11.bad_message_type");
  EXPECT_EQ(VerifySigned(with("lti_version", "LTI-2p0"), "b").status().reason(), "lti11.bad_version");
  EXPECT_EQ(VerifySigned(with("resource_link_id", ""), "c").status().reason(), "lti11.missing_resource_link");
  EXPECT_EQ(VerifySigned(with("user_id", std::string(5000, 'x')), "d").status().reason(), "lti11.bad_field");
}

// lti-digest §9.2 (MIGR test vector).
TEST(Lti1p1Claim, ConsumerKeySignMatchesTheMigrationGuideVector) {
  EXPECT_EQ(ConsumerKeySign("my-lti11-secret", "179248902", "689302", "https://lmsvendor.com", "PM48OJSfGDTAzAo",
                            1551290856, "172we8671fd8z"),
            "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=");
  EXPECT_TRUE(VerifyConsumerKeySign("lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=", "my-lti11-secret", "179248902",
                                    "689302", "https://lmsvendor.com", "PM48OJSfGDTAzAo", 1551290856, "172we8671fd8z"));
  EXPECT_FALSE(VerifyConsumerKeySign("lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=", "other", "179248902", "689302",
                                     "https://lmsvendor.com", "PM48OJSfGDTAzAo", 1551290856, "172we8671fd8z"));
  EXPECT_FALSE(VerifyConsumerKeySign("", "my-lti11-secret", "179248902", "689302", "https://lmsvendor.com",
                                     "PM48OJSfGDTAzAo", 1551290856, "172we8671fd8z"));
}

}  // namespace
}  // namespace gb::lti11
