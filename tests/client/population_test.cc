#include "client/examples/population.h"

#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/generator/fleet_generator.h"
#include "gmock/gmock.h"

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
  spec.max_events_per_person = kSeaCleanCommands;  // the published setup
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
  spec.max_events_per_person = kSeaCleanCommands;
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

namespace tacit {
namespace {

using ::testing::HasSubstr;

// A sea-commands folder of `people` users with a random number of commands
// each, all above SEA's 5,000; returns the counts.
std::vector<int> WriteSeaFolder(const testing::TempDir& dir, int people, uint32_t seed,
                                const std::string& prefix = "User") {
  const char* commands[] = {"ls", "cd", "make", "git", "vim", "grep", "cat", "ssh"};
  std::mt19937 rng(seed);
  std::vector<int> counts;
  for (int i = 0; i < people; ++i) {
    const int n = std::uniform_int_distribution<int>(5001, 9000)(rng);
    std::string text;
    for (int k = 0; k < n; ++k) absl::StrAppend(&text, commands[rng() % 8], "\n");
    dir.Write(absl::StrCat(prefix, i), text);
    counts.push_back(n);
  }
  return counts;
}

PopulationSpec SeaSpec(const std::string& path) {
  PopulationSpec spec;
  spec.source = "sea-commands";
  spec.path = path;
  spec.vocab_salt = "test";
  return spec;
}

// Issue 18: 0 meant "the first 5,000" for sea-commands, silently.
TEST(LoadPopulation, ALimitOfZeroLoadsEveryEventOfEveryPerson) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    testing::TempDir dir;
    std::vector<int> counts = WriteSeaFolder(dir, 3, seed);
    PopulationLoadReport report;
    auto people = LoadPopulation(SeaSpec(dir.path()), &report);
    ASSERT_TRUE(people.ok()) << people.status();
    ASSERT_EQ(people->size(), counts.size());
    EXPECT_EQ(report.event_limit, 0);
    EXPECT_EQ(report.people_limited(), 0);
    EXPECT_EQ(DescribeEventLimit(report.event_limit), "every event of every person");
    for (size_t i = 0; i < counts.size(); ++i) {
      EXPECT_EQ(report.people[i].events, counts[i]) << "seed " << seed;
      EXPECT_EQ((*people)[i].train.size() + (*people)[i].test.size(),
                static_cast<size_t>(counts[i]))
          << "seed " << seed;
    }
  }
}

TEST(LoadPopulation, AnExplicitLimitIsKeptAndReported) {
  testing::TempDir dir;
  WriteSeaFolder(dir, 2, 7);
  PopulationSpec spec = SeaSpec(dir.path());
  spec.max_events_per_person = kSeaCleanCommands;
  PopulationLoadReport report;
  auto people = LoadPopulation(spec, &report);
  ASSERT_TRUE(people.ok()) << people.status();
  EXPECT_EQ((*people)[0].train.size() + (*people)[0].test.size(), 5000u);
  EXPECT_EQ(report.people_limited(), 2);
  EXPECT_EQ(DescribeEventLimit(report.event_limit), "the first 5,000 events per person");
}

// The generator's report was hard-coded: every person "stopped at the limit
// with more to read" and read exactly the limit, whatever happened. Now the
// events are counted as made, and the limit is reported as not applying.
TEST(LoadPopulation, TheGeneratorsReportCountsWhatItMadeAndCutsNobodyOff) {
  std::mt19937 rng(20261201);
  for (int trial = 0; trial < 4; ++trial) {
    PopulationSpec spec;
    spec.source = "generator";
    spec.people = std::uniform_int_distribution<int>(1, 5)(rng);
    spec.seed = rng();
    spec.max_events_per_person = std::uniform_int_distribution<int>(20, 1500)(rng);
    spec.vocab_salt = "test";
    PopulationLoadReport report;
    auto people = LoadPopulation(spec, &report);
    ASSERT_TRUE(people.ok()) << people.status();
    ASSERT_EQ(report.people.size(), static_cast<size_t>(spec.people));
    EXPECT_TRUE(report.generated);
    EXPECT_EQ(report.people_limited(), 0) << "a generator has nothing more to read";
    EXPECT_THAT(DescribeLimitReached(report), ::testing::HasSubstr("nobody cut off"));
    FleetGenerator fleet(spec.seed);
    for (int i = 0; i < spec.people; ++i) {
      int64_t made = 0;
      ASSERT_TRUE(fleet
                      .Generate(i, spec.max_events_per_person,
                                [&made](const RawEvent&) {
                                  ++made;
                                  return absl::OkStatus();
                                })
                      .ok());
      EXPECT_EQ(report.people[i].events, made) << "person " << i;
      EXPECT_FALSE(report.people[i].reached_limit);
      EXPECT_EQ(report.people[i].person_id, FleetGenerator::PersonId(i));
    }
  }
}

TEST(LoadPopulation, SeaFileNamesAreMatchedInAnyCaseAndWrongNamesSayWhatIsExpected) {
  testing::TempDir upper;
  WriteSeaFolder(upper, 2, 4, "USER");
  auto people = LoadPopulation(SeaSpec(upper.path()));
  ASSERT_TRUE(people.ok()) << people.status();
  EXPECT_EQ((*people)[1].person_id, "USER1");

  testing::TempDir wrong;
  wrong.Write("alice.log", "ls\n");
  wrong.Write("UserA", "ls\n");
  auto none = LoadPopulation(SeaSpec(wrong.path()));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("User<N>"));
  EXPECT_THAT(none.status().message(), HasSubstr("'alice.log'"));

  testing::TempDir both;
  both.Write("user1", "ls\n");
  both.Write("User1", "ls\n");
  EXPECT_EQ(LoadPopulation(SeaSpec(both.path())).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(LoadPopulation, ABadLineNamesFileLineContentAndTheOptionToSkip) {
  testing::TempDir dir;
  dir.Write("User0", "ls\ncd\nls -la /secret\nmake\n");
  auto people = LoadPopulation(SeaSpec(dir.path()));
  EXPECT_EQ(people.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(people.status().message(), HasSubstr("User0:3:"));
  EXPECT_THAT(people.status().message(), HasSubstr("(line: \"ls -la /secret\")"));
  EXPECT_THAT(people.status().message(), HasSubstr("population.on_error"));
}

// The laptop's own import never echoes a bad line: it may hold arguments.
TEST(LoadPopulation, TheLaptopsImportDoesNotQuoteBadLines) {
  testing::TempDir dir;
  const std::string path = dir.Write("User0", "ls\nmysql -pS3cretPass\n");
  auto report = ImportFile(DataFormat::kSeaCommands, path, ImportOptions{},
                           [](const RawEvent&) { return absl::OkStatus(); });
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("User0:2:"));
  EXPECT_THAT(report.status().message(), ::testing::Not(HasSubstr("S3cret")));
}

TEST(LoadPopulation, SkipModeCountsEveryBadLineAndKeepsTheRest) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 5; ++trial) {
    testing::TempDir dir;
    int good = 0, bad = 0;
    std::string text;
    const int lines = std::uniform_int_distribution<int>(50, 400)(rng);
    for (int k = 0; k < lines; ++k) {
      switch (rng() % 4) {
        case 0:
          text += "\n";  // blank
          ++bad;
          break;
        case 1:
          text += "two words\n";
          ++bad;
          break;
        default:
          text += "ls\n";
          ++good;
      }
    }
    dir.Write("User3", text);
    PopulationSpec spec = SeaSpec(dir.path());
    spec.on_error = OnBadLine::kSkip;
    PopulationLoadReport report;
    auto people = LoadPopulation(spec, &report);
    if (good < 2) continue;  // too few tokens to split
    ASSERT_TRUE(people.ok()) << people.status();
    EXPECT_EQ(report.skipped_lines, bad);
    EXPECT_EQ(report.people[0].skipped_lines, bad);
    EXPECT_EQ(report.people[0].events, good);
    if (bad > 0) {
      EXPECT_THAT(DescribeSkippedLines(report), HasSubstr("User3:"));
    }
  }
}

}  // namespace
}  // namespace tacit
