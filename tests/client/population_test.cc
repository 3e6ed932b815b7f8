#include "client/examples/population.h"

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
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

namespace tacit {
namespace {

// Per-user "most frequent next command after the previous one", trained on a
// user's train tokens and scored on the test tokens: the README of the shared
// data reports top-1 0.578 for exactly this split, so the loader (first 5,000
// commands, 80/20 in time, hashed tokens) reproduces the published setup.
TEST(LoadPopulation, SeaReproducesThePublishedPerUserBigramBaseline) {
  TACIT_REQUIRE_SHARED_DATA(dir, "sea-commands");
  PopulationSpec spec;
  spec.source = "sea-commands";
  spec.path = dir;
  spec.vocab_size = 1 << 16;  // few collisions, as with command names
  auto people = LoadPopulation(spec);
  ASSERT_TRUE(people.ok()) << people.status();
  double top1_sum = 0;
  for (const PersonTokens& p : *people) {
    std::map<int32_t, std::map<int32_t, int>> next;
    for (size_t i = 1; i < p.train.size(); ++i) ++next[p.train[i - 1]][p.train[i]];
    int hits = 0;
    int32_t previous = p.train.back();
    for (int32_t actual : p.test) {
      int32_t guess = -1;
      int best = 0;
      for (const auto& [token, count] : next[previous]) {
        if (count > best) {
          best = count;
          guess = token;
        }
      }
      hits += guess == actual;
      previous = actual;
    }
    top1_sum += static_cast<double>(hits) / static_cast<double>(p.test.size());
  }
  EXPECT_NEAR(top1_sum / static_cast<double>(people->size()), 0.578, 0.01);
}

}  // namespace
}  // namespace tacit

namespace tacit {
namespace {

TEST(LoadPopulation, ReadsAFolderOfJsonLinesPeople) {
  testing::TempDir tmp;
  std::string lines;
  for (int i = 0; i < 50; ++i) {
    lines += "{\"t\":" + std::to_string(1700000000000 + i) +
             ",\"kind\":\"shell_command\",\"command\":\"git status\",\"app\":\"Terminal\"}\n";
  }
  tmp.Write("bob.jsonl", lines);
  tmp.Write("alice.jsonl",
            lines + R"({"t":1700000002000,"kind":"key_press","key":"x","app":"1Password"})"
                    "\n");
  tmp.Write("notes.txt", "not a person");
  PopulationSpec spec;
  spec.source = "jsonl";
  spec.path = tmp.path();
  auto people = LoadPopulation(spec);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 2u);
  EXPECT_EQ((*people)[0].person_id, "alice");
  EXPECT_EQ((*people)[0].train.size() + (*people)[0].test.size(), 50u)
      << "the 1Password key press is dropped by the default deny list";
  EXPECT_EQ((*people)[0].train, (*people)[1].train);
}

}  // namespace
}  // namespace tacit
