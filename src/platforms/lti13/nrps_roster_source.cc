#include "platforms/lti13/nrps_roster_source.h"

namespace gb::platforms {

std::string_view RosterAnswerName(RosterAnswer::Kind kind) {
  switch (kind) {
    case RosterAnswer::Kind::kActive: return "active";
    case RosterAnswer::Kind::kInactive: return "inactive";
    case RosterAnswer::Kind::kDeleted: return "deleted";
    case RosterAnswer::Kind::kUnknown: return "unknown";
  }
  return "unknown";
}

NrpsRosterSource::NrpsRosterSource(lti::RosterSync& sync, lti::MemberStore& members, Clock& clock,
                                   NrpsRosterSourceOptions options)
    : sync_(sync), members_(members), clock_(clock), options_(options) {}

Result<RosterAnswer> NrpsRosterSource::Resync(const lti::Registration& registration, std::string_view context_id,
                                              std::string_view user_id) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mu_);
    auto& s = slots_[registration.id.str() + "\n" + std::string(context_id)];
    if (!s) s = std::make_shared<Slot>();
    slot = s;
  }
  RosterAnswer answer;
  {
    std::lock_guard lock(slot->mu);
    const TimePoint now = clock_.Now();
    if (!slot->synced || now - slot->last_sync >= options_.min_interval) {
      lti::RosterSyncRequest request;
      request.context_id = std::string(context_id);
      GB_RETURN_IF_ERROR(sync_.Sync(registration, request).status());
      slot->synced = true;
      slot->last_sync = now;
      answer.resynced = true;
    }
  }
  GB_ASSIGN_OR_RETURN(std::optional<lti::StoredMember> found, members_.FindMember(registration.id, context_id, user_id));
  if (!found) return answer;
  answer.roles = found->member.roles;
  switch (found->member.status) {
    case lti::MemberStatus::kActive: answer.kind = RosterAnswer::Kind::kActive; break;
    case lti::MemberStatus::kInactive: answer.kind = RosterAnswer::Kind::kInactive; break;
    case lti::MemberStatus::kDeleted: answer.kind = RosterAnswer::Kind::kDeleted; break;
  }
  return answer;
}

}  // namespace gb::platforms
