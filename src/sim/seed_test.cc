#include "sim/seed.h"

#include <gtest/gtest.h>

namespace gb::sim {
namespace {

TEST(SeedWithLearners, AddsNumberedLearnersAndKeepsTheDefaultWorld) {
  auto seed = SeedWithLearners(50);
  int learners = 0;
  for (const auto& u : seed->users) learners += u.role == CourseRole::kLearner;
  EXPECT_EQ(learners, 50);
  ASSERT_NE(seed->FindUser("learner50"), nullptr);
  EXPECT_EQ(seed->FindUser("learner50")->email, "learner50@sim.example.edu");
  EXPECT_EQ(seed->FindUser("learner1")->family_name, "Hopper");
  EXPECT_EQ(seed->users.back().id, "ta1");
  EXPECT_EQ(seed->FindUser("ta1")->role, CourseRole::kTeachingAssistant);
  EXPECT_EQ(seed->FindUser("learner51"), nullptr);
  EXPECT_EQ(seed->resource_links.size(), DefaultSeed().resource_links.size());
  EXPECT_EQ(SeedWithLearners(3)->users.size(), DefaultSeed().users.size());
}

}  // namespace
}  // namespace gb::sim
