#include "lti/roster_sync.h"

#include <map>
#include <set>

#include "base/log.h"

namespace gb::lti {
namespace {

Status FromOutcome(const MembershipReply& reply) {
  Code code = reply.retryable() ? Code::kUnavailable : Code::kFailedPrecondition;
  std::string message = reply.diagnosis.empty() ? "Reading the roster failed." : reply.diagnosis;
  return Error(code, reply.reason.empty() ? "nrps.failed" : reply.reason, "Roster sync failed: " + message);
}

// Last occurrence wins when a platform lists a member twice (e.g. across pages while it changes).
std::vector<Member> Deduplicated(std::vector<Member> members) {
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < members.size(); ++i) last[members[i].user_id] = i;
  if (last.size() == members.size()) return members;
  std::vector<Member> out;
  out.reserve(last.size());
  for (size_t i = 0; i < members.size(); ++i) {
    if (last[members[i].user_id] == i) out.push_back(std::move(members[i]));
  }
  return out;
}

}  // namespace

RosterSync::RosterSync(NrpsClient& nrps, MemberStore& members, Clock& clock)
    : nrps_(nrps), members_(members), clock_(clock) {}

Result<RosterSyncSummary> RosterSync::Sync(const Registration& registration, const RosterSyncRequest& request,
                                           const MembershipProgress& progress) {
  if (request.context_id.empty()) {
    return Error(Code::kInvalidArgument, "roster.no_context", "A context id is required to sync a roster.");
  }
  GB_ASSIGN_OR_RETURN(std::optional<RosterState> stored, members_.GetRosterState(registration.id, request.context_id));
  RosterSyncSummary summary;
  if (!request.memberships_url.empty()) {
    summary.memberships_url = request.memberships_url;
    summary.url_source = "argument";
  } else if (stored && !stored->memberships_url.empty()) {
    summary.memberships_url = stored->memberships_url;
    summary.url_source = "stored";
  } else {
    GB_ASSIGN_OR_RETURN(summary.memberships_url,
                        members_.LatestLaunchMembershipsUrl(registration.id, request.context_id));
    summary.url_source = "launch";
  }
  if (summary.memberships_url.empty()) {
    return Error(Code::kFailedPrecondition, "roster.no_memberships_url",
                 "No memberships URL is known for context " + request.context_id +
                     ": no launch from it carried the Names and Role Provisioning claim (enable NRPS for the "
                     "tool on the platform and launch once), and none was given (--url).");
  }

  const bool incremental = !request.force_full && stored && !stored->differences_url.empty() &&
                           stored->memberships_url == summary.memberships_url;
  std::optional<MembershipReply> reply;
  if (incremental) {
    GB_ASSIGN_OR_RETURN(MembershipReply diff, nrps_.GetDifferences(registration, stored->differences_url, progress));
    if (diff.ok()) {
      reply = std::move(diff);
      summary.full = false;
    } else if (diff.retryable()) {
      return FromOutcome(diff);
    } else {
      // The platform no longer honours the link (expired, or the roster was reset): read it all.
      LogInfo("roster.differences_refused", {{"registration", registration.id.str()},
                                             {"context", request.context_id}, {"reason", diff.reason}});
      summary.fell_back_to_full = true;
    }
  }
  if (!reply) {
    GB_ASSIGN_OR_RETURN(MembershipReply full, nrps_.GetMembers(registration, summary.memberships_url, {}, progress));
    if (!full.ok()) return FromOutcome(full);
    reply = std::move(full);
    summary.full = true;
  }
  if (!reply->context_id.empty() && reply->context_id != request.context_id) {
    return Error(Code::kFailedPrecondition, "roster.context_mismatch",
                 "The memberships URL answered with the roster of context " + reply->context_id + ", not " +
                     request.context_id + "; nothing was stored.");
  }
  std::vector<Member> members = Deduplicated(std::move(*reply->members));
  summary.pages = reply->pages;
  summary.received = members.size();
  summary.differences_available = !reply->differences_url.empty();

  const int64_t now = clock_.NowSeconds();
  RosterState state;
  state.registration_id = registration.id;
  state.context_id = request.context_id;
  state.memberships_url = summary.memberships_url;
  state.differences_url = reply->differences_url;
  state.last_full_sync_at = summary.full ? now : (stored ? stored->last_full_sync_at : 0);
  state.last_sync_at = now;
  if (summary.full) {
    MemberQuery current;
    current.limit = 1'000'000;
    GB_ASSIGN_OR_RETURN(std::vector<StoredMember> before, members_.ListMembers(registration.id, request.context_id, current));
    std::set<std::string> listed;
    for (const auto& m : members) listed.insert(m.user_id);
    for (const auto& b : before) {
      if (b.member.status != MemberStatus::kDeleted && !listed.count(b.member.user_id)) ++summary.marked_deleted;
    }
  }
  GB_RETURN_IF_ERROR(members_.ApplyRosterSync(state, members, summary.full, now));
  LogInfo("roster.synced", {{"registration", registration.id.str()}, {"context", request.context_id},
                            {"full", summary.full}, {"pages", summary.pages},
                            {"members", static_cast<int64_t>(summary.received)},
                            {"marked_deleted", static_cast<int64_t>(summary.marked_deleted)}});
  return summary;
}

}  // namespace gb::lti
