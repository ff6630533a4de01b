// The simulator's seeded world: one course, its people and its resource links. Fixed data, so
// tests and demos can name them ("learner1", "rl-quiz-1").
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gb::sim {

// Course membership of a user, the sim's own vocabulary; RolesFor() turns it into LTI role URIs.
enum class CourseRole { kInstructor, kLearner, kTeachingAssistant };

struct SimUser {
  std::string id;  // also the login_hint and the id_token `sub`
  std::string given_name;
  std::string family_name;
  std::string email;
  CourseRole role = CourseRole::kLearner;
  std::string name() const { return given_name + " " + family_name; }
};

struct SimResourceLink {
  std::string id;
  std::string title;
  std::string description;
  int cmid = 0;               // Moodle course-module id (used in lti_message_hint)
  std::string line_item_id;   // the coupled line item, empty when none
  double score_maximum = 0;   // of that line item
};

struct SimCourse {
  std::string id;     // LTI context id
  std::string label;
  std::string title;
  std::string type;   // context type URI (CourseOffering)
};

struct Seed {
  SimCourse course;
  std::vector<SimUser> users;
  std::vector<SimResourceLink> resource_links;

  // Linear for the default five users; through `user_index` when it is built (many learners).
  const SimUser* FindUser(std::string_view id) const;
  std::map<std::string, size_t, std::less<>> user_index;  // id -> position in users
  const SimResourceLink* FindResourceLink(std::string_view id) const;
};

// The default world with learners learner4 … learner<learners> ("Learner 4", …) added, for load
// tests and benchmarks that need many gradebook cells. learners ≤ 3 gives a copy of the default.
std::unique_ptr<Seed> SeedWithLearners(int learners);

// The one world every simulator starts with:
//   course  "1001" CS101 "Introduction to Computing" (CourseOffering)
//   users   instructor (Ada Lovelace), learner1 (Grace Hopper), learner2 (Alan Turing),
//           learner3 (Katherine Johnson), ta1 (Edsger Dijkstra, teaching assistant)
//   links   rl-quiz-1 "Quiz 1" (line item "1", 10 points), rl-essay "Essay" (no line item)
const Seed& DefaultSeed();

// The short membership role name ("Instructor", "Learner", "TeachingAssistant").
std::string_view RoleName(CourseRole role);

nlohmann::json UserToJson(const SimUser& user);
nlohmann::json ResourceLinkToJson(const SimResourceLink& link);

}  // namespace gb::sim
