// RosterSync: brings a context's cached roster (MemberStore) up to date from the platform through
// Names and Role Provisioning. Used by `gradebridge roster sync`, and by the late-enrolment check
// before a score is declared undeliverable (platforms/lti13/nrps_roster_source.h).
//
// Which URL: the request's memberships_url when given; otherwise the one the context was last
// synced from; otherwise the context_memberships_url of the newest stored launch of the context
// (MemberStore::LatestLaunchMembershipsUrl). None: kFailedPrecondition "roster.no_memberships_url".
//
// Full or incremental: when the context has a stored rel="differences" link from the same
// memberships URL and a full sync is not forced, only the differences are fetched and applied
// (members added or changed; removed ones arrive as Deleted). Otherwise — or when the platform
// refuses the differences link (it may expire) — the whole roster is read, unfiltered, and every
// cached member it does not list becomes Deleted. Either way the new differences link is stored.
//
// The container's context.id, when the platform sends one, must be the context asked for, or
// nothing is stored (kFailedPrecondition "roster.context_mismatch"): a URL from another course
// must not fill this course's cache. Platform failures come back as errors whose reason is the
// NRPS outcome's ("nrps.not_found", "token.invalid_client", ...), with kUnavailable for
// transient ones and kFailedPrecondition for the rest, and the platform's words in the message.
// Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "lti/nrps_client.h"
#include "lti/registration.h"
#include "lti/roster.h"

namespace gb::lti {

struct RosterSyncRequest {
  std::string context_id;
  std::string memberships_url;  // "" = the stored or launch-provided one (see above)
  bool force_full = false;
};

struct RosterSyncSummary {
  bool full = true;              // false: differences only
  int pages = 0;
  size_t received = 0;           // members in the platform's answer
  size_t marked_deleted = 0;     // full syncs: cached members the answer no longer lists
  std::string memberships_url;
  std::string url_source;        // "argument", "stored", "launch"
  bool differences_available = false;  // the platform gave a rel="differences" link
  bool fell_back_to_full = false;      // the differences link was refused
};

class RosterSync {
 public:
  RosterSync(NrpsClient& nrps, MemberStore& members, Clock& clock);

  Result<RosterSyncSummary> Sync(const Registration& registration, const RosterSyncRequest& request,
                                 const MembershipProgress& progress = {});

 private:
  NrpsClient& nrps_;
  MemberStore& members_;
  Clock& clock_;
};

}  // namespace gb::lti
