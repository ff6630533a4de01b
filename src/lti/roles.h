// Role vocabulary handling (lti-digest §1.7). Platforms send full URIs, short names ("Learner")
// and LTI 1.x URNs; all normalise to the same Role. Unknown roles are kept, never an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gb::lti {

enum class RoleKind { kContext, kInstitution, kSystem, kTestUser, kUnknown };

struct Role {
  RoleKind kind = RoleKind::kUnknown;
  std::string principal;  // "Learner", "Instructor", ... (context roles: the principal of a sub-role)
  std::string sub_role;   // "TeachingAssistant" for membership/Instructor#TeachingAssistant; else empty
  std::string raw;        // exactly as sent
};

Role ParseRole(std::string_view value);
std::vector<Role> ParseRoles(const std::vector<std::string>& values);

// Convenience predicates over context roles (sub-roles count for their principal).
bool HasContextRole(const std::vector<Role>& roles, std::string_view principal);
bool IsInstructor(const std::vector<Role>& roles);  // Instructor or Administrator (context)
bool IsLearner(const std::vector<Role>& roles);
bool IsTestUser(const std::vector<Role>& roles);

// The full LIS/LTI URI of a role, whatever form it was sent in: short context names ("Learner")
// and LTI 1.x URNs become ".../membership#Learner", sub-roles ".../membership/Instructor#TeachingAssistant",
// institution and system roles their v2 person URIs. Unknown roles come back exactly as sent.
std::string CanonicalRoleUri(const Role& role);
// Canonical URIs of `values`, de-duplicated, in the order first seen.
std::vector<std::string> CanonicalRoleUris(const std::vector<std::string>& values);

// Short, stable names of the context roles for display and the hand-off ("Instructor", ...).
std::vector<std::string> ContextRoleNames(const std::vector<Role>& roles);

}  // namespace gb::lti
