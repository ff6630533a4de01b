// NrpsRosterSource: RosterSource over Names and Role Provisioning (lti::RosterSync) and the member
// cache (lti::MemberStore).
//
// Resync() syncs the context (incrementally when a differences link is stored) and looks the user
// up. A burst of refused scores for one context shares one sync: calls for the same (registration,
// context) are serialised, and a sync younger than min_interval is reused instead of repeated
// (RosterAnswer::resynced = false), so a class of unenrolled users costs the platform one roster
// read, not one per score.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "lti/roster.h"
#include "lti/roster_sync.h"
#include "platforms/roster_source.h"

namespace gb::platforms {

struct NrpsRosterSourceOptions {
  std::chrono::seconds min_interval{30};
};

class NrpsRosterSource final : public RosterSource {
 public:
  NrpsRosterSource(lti::RosterSync& sync, lti::MemberStore& members, Clock& clock,
                   NrpsRosterSourceOptions options = {});

  Result<RosterAnswer> Resync(const lti::Registration& registration, std::string_view context_id,
                              std::string_view user_id) override;

 private:
  struct Slot {
    std::mutex mu;  // held during a sync of this context
    TimePoint last_sync{};
    bool synced = false;
  };

  lti::RosterSync& sync_;
  lti::MemberStore& members_;
  Clock& clock_;
  NrpsRosterSourceOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace gb::platforms
