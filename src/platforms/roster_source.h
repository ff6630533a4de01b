// RosterSource: the port through which grade delivery asks "is this user in the context?" after a
// platform refused a score for an unknown or unenrolled user — re-reading the roster first, since
// late enrolment is the most common reason (DESIGN §2 flow 4, §7). Implemented per protocol in
// platforms/ (LTI 1.3: NrpsRosterSource; Google Classroom's roster feed later).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lti/registration.h"

namespace gb::platforms {

struct RosterAnswer {
  enum class Kind {
    kActive,    // an Active member of the context
    kInactive,  // listed, but their enrolment is Inactive (concluded, suspended)
    kDeleted,   // was a member and left (dropped, or missing from a full roster)
    kUnknown,   // the roster does not list them at all
  };
  Kind kind = Kind::kUnknown;
  std::vector<std::string> roles;  // canonical role URIs, when listed
  bool resynced = false;           // false: a re-sync moments ago was reused (see the implementation)
};
std::string_view RosterAnswerName(RosterAnswer::Kind kind);  // "active", "inactive", "deleted", "unknown"

class RosterSource {
 public:
  virtual ~RosterSource() = default;
  // Brings the cached roster of (registration, context) up to date from the platform and says what
  // it now holds for `user_id`. kUnavailable when the roster could not be read for a transient
  // reason; kFailedPrecondition / kPermissionDenied when it cannot be read at all (no roster URL,
  // the service not granted). Thread-safe.
  virtual Result<RosterAnswer> Resync(const lti::Registration& registration, std::string_view context_id,
                                      std::string_view user_id) = 0;
};

}  // namespace gb::platforms
