#include "lti/roles.h"

#include <gtest/gtest.h>

namespace gb::lti {
namespace {

TEST(RolesTest, FullUrisShortNamesAndUrnsNormaliseAlike) {
  for (const char* v : {"http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", "Instructor",
                        "urn:lti:role:ims/lis/Instructor"}) {
    Role r = ParseRole(v);
    EXPECT_EQ(r.kind, RoleKind::kContext) << v;
    EXPECT_EQ(r.principal, "Instructor") << v;
  }
}

TEST(RolesTest, SubRolesCountForTheirPrincipal) {
  auto roles = ParseRoles({"http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"});
  EXPECT_TRUE(IsInstructor(roles));
  EXPECT_EQ(roles[0].sub_role, "TeachingAssistant");
  EXPECT_EQ(ContextRoleNames(roles), std::vector<std::string>{"Instructor#TeachingAssistant"});
}

TEST(RolesTest, InstitutionSystemTestUserAndUnknown) {
  auto roles = ParseRoles({"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
                           "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
                           "http://purl.imsglobal.org/vocab/lti/system/person#TestUser", "https://example.test/role#Odd",
                           "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"});
  EXPECT_EQ(roles[0].kind, RoleKind::kInstitution);
  EXPECT_EQ(roles[1].kind, RoleKind::kSystem);
  EXPECT_TRUE(IsTestUser(roles));
  EXPECT_EQ(roles[3].kind, RoleKind::kUnknown);
  EXPECT_TRUE(IsLearner(roles));
  EXPECT_FALSE(IsInstructor(roles));
}

TEST(RolesTest, CanonicalUrisUnifyShortNamesUrnsAndFullUris) {
  const std::string learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
  EXPECT_EQ(CanonicalRoleUri(ParseRole("Learner")), learner);
  EXPECT_EQ(CanonicalRoleUri(ParseRole("urn:lti:role:ims/lis/Learner")), learner);
  EXPECT_EQ(CanonicalRoleUri(ParseRole(learner)), learner);
  EXPECT_EQ(CanonicalRoleUri(ParseRole("urn:lti:role:ims/lis/Instructor/TeachingAssistant")),
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant");
  EXPECT_EQ(CanonicalRoleUri(ParseRole("urn:lti:instrole:ims/lis/Student")),
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student");
  EXPECT_EQ(CanonicalRoleUri(ParseRole("https://example.test/role#Odd")), "https://example.test/role#Odd");
  // Moodle's roster says "Learner" where its launch said the URI: one value after normalising.
  EXPECT_EQ(CanonicalRoleUris({"Learner", learner, "Instructor"}),
            (std::vector<std::string>{learner, "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"}));
}

}  // namespace
}  // namespace gb::lti
