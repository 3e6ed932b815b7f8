#include "client/examples/population.h"

#include <set>

#include "gtest/gtest.h"
#include "tests/support/shared_data.h"

namespace tacit {
namespace {

TEST(LoadPopulation, SeaGivesEveryUsersFirst5000CommandsSplitInTime) {
  TACIT_REQUIRE_SHARED_DATA(dir, "sea-commands");
  PopulationSpec spec;
  spec.source = "sea-commands";
  spec.path = dir;
  spec.vocab_salt = "test";
  auto people = LoadPopulation(spec);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 40u);
  EXPECT_EQ((*people)[0].person_id, "User0");
  EXPECT_EQ((*people)[2].person_id, "User2") << "natural order";
  std::set<int32_t> distinct;
  for (const PersonTokens& p : *people) {
    EXPECT_EQ(p.train.size(), 4000u) << p.person_id;
    EXPECT_EQ(p.test.size(), 1000u) << p.person_id;
    distinct.insert(p.train.begin(), p.train.end());
    for (int32_t t : p.train) ASSERT_TRUE(t > 0 && t < 4096);
  }
  EXPECT_GT(distinct.size(), 200u) << "SEA users use hundreds of distinct commands";
}

TEST(LoadPopulation, ReadsTheOtherFoldersAndLimitsPeople) {
  TACIT_REQUIRE_SHARED_DATA(mouse, "balabit-mouse");
  PopulationSpec spec;
  spec.source = "balabit-mouse";
  spec.path = mouse;
  spec.people = 2;
  spec.max_events_per_person = 3000;
  auto people = LoadPopulation(spec);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 2u);
  EXPECT_EQ((*people)[0].person_id, "user7");
  EXPECT_GT((*people)[0].train.size() + (*people)[0].test.size(), 100u);
}

TEST(LoadPopulation, RefusesBadSpecsWithClearErrors) {
  PopulationSpec spec;
  spec.source = "nonsense";
  spec.path = "/nonexistent";
  EXPECT_EQ(LoadPopulation(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.source = "sea-commands";
  EXPECT_EQ(LoadPopulation(spec).status().code(), absl::StatusCode::kNotFound);
  spec.train_fraction = 1.0;
  EXPECT_EQ(LoadPopulation(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.train_fraction = 0.8;
  spec.vocab_size = 1;
  EXPECT_EQ(LoadPopulation(spec).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tacit
