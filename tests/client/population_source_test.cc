// Populations on demand (population_source.h): a generated person is the
// eager loader's person, an idle generated person costs no memory, and a
// shard's view of a folder reads only the people it keeps.

#include "client/examples/population_source.h"

#include <malloc.h>

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

PopulationSpec GeneratorSpec(int people, uint64_t seed, int events) {
  PopulationSpec spec;
  spec.source = "generator";
  spec.people = people;
  spec.seed = seed;
  spec.max_events_per_person = events;
  spec.vocab_salt = "test";
  return spec;
}

TEST(GeneratedPopulation, APersonIsTheEagerLoadersPersonForAnySeedSizeAndIndex) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 4; ++trial) {
    const int people = std::uniform_int_distribution<int>(1, 12)(rng);
    const int events = std::uniform_int_distribution<int>(20, 400)(rng);
    const PopulationSpec spec = GeneratorSpec(people, rng(), events);
    auto eager = LoadPopulation(spec);
    ASSERT_TRUE(eager.ok()) << eager.status();
    auto lazy = GeneratedPopulation::Create(spec);
    ASSERT_TRUE(lazy.ok()) << lazy.status();
    ASSERT_EQ((*lazy)->size(), eager->size());
    // In a random order: a person does not depend on who was generated before.
    for (int k = 0; k < people; ++k) {
      const size_t i = std::uniform_int_distribution<size_t>(0, people - 1)(rng);
      auto person = (*lazy)->Materialize(i);
      ASSERT_TRUE(person.ok()) << person.status();
      EXPECT_EQ((*person)->person_id, (*eager)[i].person_id);
      EXPECT_EQ((*lazy)->PersonId(i), (*eager)[i].person_id);
      EXPECT_EQ((*person)->train, (*eager)[i].train) << "person " << i;
      EXPECT_EQ((*person)->test, (*eager)[i].test) << "person " << i;
      EXPECT_FALSE((*person)->train.empty());
    }
    EXPECT_EQ((*lazy)->Materialize(people).status().code(), absl::StatusCode::kOutOfRange);
  }
}

TEST(GeneratedPopulation, IdlePeopleCostNoMemoryWhateverTheirNumber) {
  std::mt19937_64 rng(testing::TestSeed());
  // One-time set-up first (the SHA-256 of the fingerprint initialises its
  // library: about 130 KiB, once per process, whatever the population).
  ASSERT_TRUE(GeneratedPopulation::Create(GeneratorSpec(1, 1, 0)).ok());
  for (int trial = 0; trial < 3; ++trial) {
    const int people = std::uniform_int_distribution<int>(1000, 1'000'000)(rng);
    const struct mallinfo2 before = mallinfo2();
    auto population = GeneratedPopulation::Create(GeneratorSpec(people, rng(), 0));
    const struct mallinfo2 after = mallinfo2();
    ASSERT_TRUE(population.ok()) << population.status();
    const double heap = static_cast<double>(after.uordblks + after.hblkhd) -
                        static_cast<double>(before.uordblks + before.hblkhd);
    // The population's own few hundred bytes, nothing per person: far under
    // the 64 bytes per idle person.
    EXPECT_LT(heap, 4096) << people << " people";
    EXPECT_LT(heap / people, 64.0);
    EXPECT_LT(sizeof(GeneratedPopulation), 512u);
    EXPECT_TRUE((*population)->generated());
  }
}

TEST(GeneratedPopulation, RefusesWhatTheLoaderRefuses) {
  EXPECT_EQ(GeneratedPopulation::Create(GeneratorSpec(0, 1, 10)).status().code(),
            absl::StatusCode::kInvalidArgument);
  PopulationSpec spec = GeneratorSpec(3, 1, 10);
  spec.train_fraction = 1.5;
  EXPECT_EQ(GeneratedPopulation::Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = GeneratorSpec(3, 1, 10);
  spec.source = "sea-commands";
  EXPECT_FALSE(GeneratedPopulation::Create(spec).ok());
}

TEST(OpenPopulation, AFolderViewReadsOnlyTheKeptPeopleAndRefusesTheOthers) {
  std::mt19937_64 rng(testing::TestSeed());
  testing::TempDir dir;
  const int people = std::uniform_int_distribution<int>(3, 9)(rng);
  for (int i = 0; i < people; ++i) {
    std::string text;
    const int commands = std::uniform_int_distribution<int>(20, 60)(rng);
    for (int k = 0; k < commands; ++k) absl::StrAppend(&text, (rng() % 2) ? "ls\n" : "make\n");
    dir.Write(absl::StrCat("User", i), text);
  }
  PopulationSpec spec;
  spec.source = "sea-commands";
  spec.path = dir.path();
  spec.vocab_salt = "test";
  auto everyone = LoadPopulation(spec);
  ASSERT_TRUE(everyone.ok()) << everyone.status();
  const int ranks = std::uniform_int_distribution<int>(2, 4)(rng);
  const int rank = std::uniform_int_distribution<int>(1, ranks - 1)(rng);
  auto mine = [&](size_t i) { return static_cast<int>(i % ranks) == rank; };
  PopulationLoadReport report;
  auto view = OpenPopulation(spec, &report, mine);
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ((*view)->size(), everyone->size()) << "every person has an index and an id";
  size_t read = 0;
  for (size_t i = 0; i < everyone->size(); ++i) {
    EXPECT_EQ((*view)->PersonId(i), (*everyone)[i].person_id);
    auto person = (*view)->Materialize(i);
    if (mine(i)) {
      ++read;
      ASSERT_TRUE(person.ok()) << person.status();
      EXPECT_EQ((*person)->train, (*everyone)[i].train);
    } else {
      EXPECT_EQ(person.status().code(), absl::StatusCode::kFailedPrecondition);
    }
  }
  EXPECT_EQ(report.people.size(), read) << "the report lists only the people read";
  // The fingerprint does not depend on who was read: ranks compare it.
  auto full = OpenPopulation(spec);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ((*full)->fingerprint(), (*view)->fingerprint());
  dir.Write("User0", "ls\nls\nls\n");  // another data set
  auto changed = OpenPopulation(spec);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE((*changed)->fingerprint(), (*full)->fingerprint());
}

}  // namespace
}  // namespace tacit
