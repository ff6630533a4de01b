// The simulator's course roster: who is enrolled in the course right now, with a change log so
// Names and Role Provisioning can answer rel="differences" requests (nrps.cc).
//
// Starts with every seeded user Active (change sequence 0). Each change made at run time — an
// enrolment, a deactivation (Inactive: a concluded or suspended enrolment) or a drop (Deleted) —
// stamps the member with the next sequence number, so "changes since N" is every member whose
// sequence is greater than N. Deleted members are kept (a differences answer must report them)
// but leave full rosters. Only Active learners are gradable: AGS refuses scores for anyone else,
// the way Canvas answers 422 "User not found in course or is not a student".
//
// Changed at run time with POST /sim/api/roster (platform.cc), listed with GET /sim/api/roster.
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "sim/seed.h"

namespace gb::sim {

enum class EnrolmentStatus { kActive, kInactive, kDeleted };
std::string_view EnrolmentStatusName(EnrolmentStatus status);  // "Active", "Inactive", "Deleted"

struct RosterEntry {
  SimUser user;  // names and email empty when the platform has none to share (sent as absent)
  EnrolmentStatus status = EnrolmentStatus::kActive;
  uint64_t changed_seq = 0;  // 0 for seeded members
};

class Roster {
 public:
  explicit Roster(const Seed& seed);

  // Enrols `user` (or re-enrols a deactivated/dropped one with the given role and names) as Active.
  // kInvalidArgument "sim.invalid_roster" for an empty or over-long id.
  Status Enrol(const SimUser& user);
  // Inactive / Deleted. kNotFound "sim.unknown_member" for a user never enrolled.
  Status SetStatus(std::string_view user_id, EnrolmentStatus status);

  std::optional<RosterEntry> Find(std::string_view user_id) const;
  // True for an Active learner: the only members AGS accepts scores for.
  bool IsGradableLearner(std::string_view user_id) const;
  // Every entry (Deleted included) in enrolment order, and the current sequence.
  std::vector<RosterEntry> Snapshot(uint64_t* seq = nullptr) const;
  uint64_t seq() const;

  nlohmann::json ToJson() const;  // {"seq": N, "members": [{user_id, name, role, status, changed_seq}]}

 private:
  mutable std::mutex mu_;
  std::vector<RosterEntry> entries_;
  uint64_t seq_ = 0;
};

// Applies one POST /sim/api/roster body:
//   {"action": "enrol", "user_id": "late1", "role": "Learner"|"Instructor"|"TeachingAssistant",
//    "given_name": "...", "family_name": "...", "email": "..."}   (names optional)
//   {"action": "deactivate" | "drop", "user_id": "learner2"}
// Unknown members, wrong types and unknown actions are "sim.invalid_roster" (kInvalidArgument).
Status ApplyRosterChange(Roster& roster, const nlohmann::json& body);

}  // namespace gb::sim
