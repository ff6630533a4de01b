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

}  // namespace
}  // namespace gb::lti
