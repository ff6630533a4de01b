#include "sim/roster.h"

#include <nlohmann/json.hpp>

namespace gb::sim {

using nlohmann::json;

std::string_view EnrolmentStatusName(EnrolmentStatus status) {
  switch (status) {
    case EnrolmentStatus::kActive: return "Active";
    case EnrolmentStatus::kInactive: return "Inactive";
    case EnrolmentStatus::kDeleted: return "Deleted";
  }
  return "Active";
}

Roster::Roster(const Seed& seed) {
  entries_.reserve(seed.users.size());
  for (const auto& u : seed.users) entries_.push_back(RosterEntry{u, EnrolmentStatus::kActive, 0});
}

Status Roster::Enrol(const SimUser& user) {
  if (user.id.empty() || user.id.size() > 200) {
    return Error(Code::kInvalidArgument, "sim.invalid_roster", "user_id must be 1 to 200 characters.");
  }
  std::lock_guard lock(mu_);
  ++seq_;
  for (auto& e : entries_) {
    if (e.user.id == user.id) {
      e.user = user;
      e.status = EnrolmentStatus::kActive;
      e.changed_seq = seq_;
      return Status::Ok();
    }
  }
  entries_.push_back(RosterEntry{user, EnrolmentStatus::kActive, seq_});
  return Status::Ok();
}

Status Roster::SetStatus(std::string_view user_id, EnrolmentStatus status) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_) {
    if (e.user.id == user_id) {
      e.status = status;
      e.changed_seq = ++seq_;
      return Status::Ok();
    }
  }
  return Error(Code::kNotFound, "sim.unknown_member", "No member " + std::string(user_id) + " in the course.");
}

std::optional<RosterEntry> Roster::Find(std::string_view user_id) const {
  std::lock_guard lock(mu_);
  for (const auto& e : entries_) {
    if (e.user.id == user_id) return e;
  }
  return std::nullopt;
}

bool Roster::IsGradableLearner(std::string_view user_id) const {
  auto e = Find(user_id);
  return e && e->status == EnrolmentStatus::kActive && e->user.role == CourseRole::kLearner;
}

std::vector<RosterEntry> Roster::Snapshot(uint64_t* seq) const {
  std::lock_guard lock(mu_);
  if (seq) *seq = seq_;
  return entries_;
}

uint64_t Roster::seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

json Roster::ToJson() const {
  uint64_t seq = 0;
  auto entries = Snapshot(&seq);
  json members = json::array();
  for (const auto& e : entries) {
    members.push_back({{"user_id", e.user.id},
                       {"name", e.user.given_name.empty() && e.user.family_name.empty() ? "" : e.user.name()},
                       {"role", RoleName(e.user.role)},
                       {"status", EnrolmentStatusName(e.status)},
                       {"changed_seq", e.changed_seq}});
  }
  return {{"seq", seq}, {"members", members}};
}

Status ApplyRosterChange(Roster& roster, const json& body) {
  auto bad = [](std::string why) { return Error(Code::kInvalidArgument, "sim.invalid_roster", std::move(why)); };
  if (!body.is_object()) return bad("The body must be a JSON object.");
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  for (auto it = body.begin(); it != body.end(); ++it) {
    static const char* kKnown[] = {"action", "user_id", "role", "given_name", "family_name", "email"};
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (!known) return bad("Unknown member \"" + it.key() + "\".");
    if (!it->is_string()) return bad("\"" + it.key() + "\" must be a string.");
  }
  std::string action = *str("action");
  std::string user_id = *str("user_id");
  if (user_id.empty()) return bad("user_id is required.");
  if (action == "enrol") {
    SimUser u;
    u.id = user_id;
    u.given_name = *str("given_name");
    u.family_name = *str("family_name");
    u.email = *str("email");
    std::string role = str("role")->empty() ? "Learner" : *str("role");
    if (role == "Learner") {
      u.role = CourseRole::kLearner;
    } else if (role == "Instructor") {
      u.role = CourseRole::kInstructor;
    } else if (role == "TeachingAssistant") {
      u.role = CourseRole::kTeachingAssistant;
    } else {
      return bad("role must be Learner, Instructor or TeachingAssistant.");
    }
    return roster.Enrol(u);
  }
  if (action == "deactivate" || action == "drop") {
    Status s = roster.SetStatus(user_id, action == "drop" ? EnrolmentStatus::kDeleted : EnrolmentStatus::kInactive);
    if (!s.ok()) return bad(s.message());
    return s;
  }
  return bad("action must be enrol, deactivate or drop.");
}

}  // namespace gb::sim
