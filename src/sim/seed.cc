#include "sim/seed.h"

#include <nlohmann/json.hpp>

#include "sim/lti_names.h"

namespace gb::sim {

const SimUser* Seed::FindUser(std::string_view id) const {
  if (!user_index.empty()) {
    auto it = user_index.find(id);
    return it == user_index.end() ? nullptr : &users[it->second];
  }
  for (const auto& u : users) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

const SimResourceLink* Seed::FindResourceLink(std::string_view id) const {
  for (const auto& l : resource_links) {
    if (l.id == id) return &l;
  }
  return nullptr;
}

const Seed& DefaultSeed() {
  static const Seed* seed = [] {
    auto* s = new Seed;
    s->course = {"1001", "CS101", "Introduction to Computing", lti::kContextTypeCourseOffering};
    s->users = {
        {"instructor", "Ada", "Lovelace", "ada.lovelace@sim.example.edu", CourseRole::kInstructor},
        {"learner1", "Grace", "Hopper", "grace.hopper@sim.example.edu", CourseRole::kLearner},
        {"learner2", "Alan", "Turing", "alan.turing@sim.example.edu", CourseRole::kLearner},
        {"learner3", "Katherine", "Johnson", "katherine.johnson@sim.example.edu", CourseRole::kLearner},
        {"ta1", "Edsger", "Dijkstra", "edsger.dijkstra@sim.example.edu", CourseRole::kTeachingAssistant},
    };
    s->resource_links = {
        {"rl-quiz-1", "Quiz 1", "Ten questions on chapter 1", 1, "1", 10},
        {"rl-essay", "Essay", "A short essay", 2, "", 0},
    };
    return s;
  }();
  return *seed;
}

std::unique_ptr<Seed> SeedWithLearners(int learners) {
  auto seed = std::make_unique<Seed>(DefaultSeed());
  for (int n = 4; n <= learners; ++n) {
    std::string id = "learner" + std::to_string(n);
    // Before ta1, so the learners stay together in listings.
    seed->users.insert(seed->users.end() - 1,
                       SimUser{id, "Learner", std::to_string(n), id + "@sim.example.edu", CourseRole::kLearner});
  }
  for (size_t i = 0; i < seed->users.size(); ++i) seed->user_index.emplace(seed->users[i].id, i);
  return seed;
}

std::string_view RoleName(CourseRole role) {
  switch (role) {
    case CourseRole::kInstructor: return "Instructor";
    case CourseRole::kLearner: return "Learner";
    case CourseRole::kTeachingAssistant: return "TeachingAssistant";
  }
  return "Learner";
}

nlohmann::json UserToJson(const SimUser& user) {
  nlohmann::json role_uri = user.role == CourseRole::kTeachingAssistant
                                ? std::string(lti::kRoleTeachingAssistant)
                                : std::string(lti::kRoleMembership) + std::string(RoleName(user.role));
  return {{"id", user.id},
          {"name", user.name()},
          {"given_name", user.given_name},
          {"family_name", user.family_name},
          {"email", user.email},
          {"role", RoleName(user.role)},
          {"roles", nlohmann::json::array({role_uri})}};
}

nlohmann::json ResourceLinkToJson(const SimResourceLink& link) {
  nlohmann::json j = {{"id", link.id}, {"title", link.title}, {"description", link.description}};
  if (!link.line_item_id.empty()) {
    j["line_item_id"] = link.line_item_id;
    j["score_maximum"] = link.score_maximum;
  }
  return j;
}

}  // namespace gb::sim
