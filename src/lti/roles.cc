#include "lti/roles.h"

#include <algorithm>
#include <array>

namespace gb::lti {
namespace {

constexpr std::string_view kMembership = "http://purl.imsglobal.org/vocab/lis/v2/membership#";
constexpr std::string_view kMembershipSub = "http://purl.imsglobal.org/vocab/lis/v2/membership/";
constexpr std::string_view kInstitution = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#";
constexpr std::string_view kSystem = "http://purl.imsglobal.org/vocab/lis/v2/system/person#";
constexpr std::string_view kOldPerson = "http://purl.imsglobal.org/vocab/lis/v2/person#";
constexpr std::string_view kTestUser = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser";
constexpr std::string_view kUrnContext = "urn:lti:role:ims/lis/";
constexpr std::string_view kUrnInstitution = "urn:lti:instrole:ims/lis/";
constexpr std::string_view kUrnSystem = "urn:lti:sysrole:ims/lis/";

constexpr std::array<std::string_view, 8> kContextPrincipals = {
    "Administrator", "ContentDeveloper", "Instructor", "Learner", "Mentor", "Manager", "Member", "Officer"};

bool IsContextPrincipal(std::string_view name) {
  return std::find(kContextPrincipals.begin(), kContextPrincipals.end(), name) != kContextPrincipals.end();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "Instructor/TeachingAssistant" (1.x URN sub-role form) or "Instructor".
Role ContextRole(std::string_view rest, std::string_view raw) {
  Role r;
  r.raw = std::string(raw);
  size_t slash = rest.find('/');
  std::string_view principal = rest.substr(0, slash);
  if (!IsContextPrincipal(principal)) return r;
  r.kind = RoleKind::kContext;
  r.principal = std::string(principal);
  if (slash != std::string_view::npos) r.sub_role = std::string(rest.substr(slash + 1));
  return r;
}

}  // namespace

Role ParseRole(std::string_view value) {
  Role r;
  r.raw = std::string(value);
  if (value == kTestUser) {
    r.kind = RoleKind::kTestUser;
    r.principal = "TestUser";
    return r;
  }
  if (StartsWith(value, kMembership)) return ContextRole(value.substr(kMembership.size()), value);
  if (StartsWith(value, kMembershipSub)) {
    std::string_view rest = value.substr(kMembershipSub.size());
    size_t hash = rest.find('#');
    if (hash == std::string_view::npos) return r;
    Role c = ContextRole(rest.substr(0, hash), value);
    if (c.kind == RoleKind::kContext) c.sub_role = std::string(rest.substr(hash + 1));
    return c;
  }
  if (StartsWith(value, kInstitution)) {
    r.kind = RoleKind::kInstitution;
    r.principal = std::string(value.substr(kInstitution.size()));
    return r;
  }
  if (StartsWith(value, kSystem)) {
    r.kind = RoleKind::kSystem;
    r.principal = std::string(value.substr(kSystem.size()));
    return r;
  }
  if (StartsWith(value, kOldPerson)) {
    r.kind = RoleKind::kInstitution;
    r.principal = std::string(value.substr(kOldPerson.size()));
    return r;
  }
  if (StartsWith(value, kUrnContext)) return ContextRole(value.substr(kUrnContext.size()), value);
  if (StartsWith(value, kUrnInstitution)) {
    r.kind = RoleKind::kInstitution;
    r.principal = std::string(value.substr(kUrnInstitution.size()));
    return r;
  }
  if (StartsWith(value, kUrnSystem)) {
    r.kind = RoleKind::kSystem;
    r.principal = std::string(value.substr(kUrnSystem.size()));
    return r;
  }
  // Deprecated short context-role names ("Instructor"), which certification sends.
  return ContextRole(value, value);
}

std::vector<Role> ParseRoles(const std::vector<std::string>& values) {
  std::vector<Role> roles;
  roles.reserve(values.size());
  for (const auto& v : values) roles.push_back(ParseRole(v));
  return roles;
}

bool HasContextRole(const std::vector<Role>& roles, std::string_view principal) {
  return std::any_of(roles.begin(), roles.end(), [&](const Role& r) {
    return r.kind == RoleKind::kContext && r.principal == principal;
  });
}

bool IsInstructor(const std::vector<Role>& roles) {
  return HasContextRole(roles, "Instructor") || HasContextRole(roles, "Administrator");
}

bool IsLearner(const std::vector<Role>& roles) { return HasContextRole(roles, "Learner"); }

bool IsTestUser(const std::vector<Role>& roles) {
  return std::any_of(roles.begin(), roles.end(), [](const Role& r) { return r.kind == RoleKind::kTestUser; });
}

std::string CanonicalRoleUri(const Role& role) {
  switch (role.kind) {
    case RoleKind::kContext:
      if (role.sub_role.empty()) return std::string(kMembership) + role.principal;
      return std::string(kMembershipSub) + role.principal + "#" + role.sub_role;
    case RoleKind::kInstitution: return std::string(kInstitution) + role.principal;
    case RoleKind::kSystem: return std::string(kSystem) + role.principal;
    case RoleKind::kTestUser: return std::string(kTestUser);
    case RoleKind::kUnknown: break;
  }
  return role.raw;
}

std::vector<std::string> CanonicalRoleUris(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::string uri = CanonicalRoleUri(ParseRole(v));
    if (std::find(out.begin(), out.end(), uri) == out.end()) out.push_back(std::move(uri));
  }
  return out;
}

std::vector<std::string> ContextRoleNames(const std::vector<Role>& roles) {
  std::vector<std::string> names;
  for (const auto& r : roles) {
    if (r.kind != RoleKind::kContext) continue;
    std::string name = r.sub_role.empty() || r.sub_role == r.principal ? r.principal : r.principal + "#" + r.sub_role;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

}  // namespace gb::lti
