#include "lti/roster.h"

namespace gb::lti {

std::string_view MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kActive: return "Active";
    case MemberStatus::kInactive: return "Inactive";
    case MemberStatus::kDeleted: return "Deleted";
  }
  return "Active";
}

std::optional<MemberStatus> ParseMemberStatus(std::string_view name) {
  if (name == "Active") return MemberStatus::kActive;
  if (name == "Inactive") return MemberStatus::kInactive;
  if (name == "Deleted") return MemberStatus::kDeleted;
  return std::nullopt;
}

}  // namespace gb::lti
