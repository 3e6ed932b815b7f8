// Population scale (issue 17): a generated population runs the same
// federation as its eager tokens, simulation.eval_people scores a fixed
// seeded sample, and an MPI shard's view reads only the people it owns.

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/examples/population_source.h"
#include "gtest/gtest.h"
#include "simulations/federation/derived_seeds.h"
#include "simulations/mpi/shard_layout.h"
#include "tests/client/temp_dir.h"
#include "tests/simulations/small_experiment.h"
#include "tests/support/test_seed.h"

namespace tacit::sim {
namespace {

TEST(EvaluationSample, IsDeterministicDistinctSortedAndOfTheRightSize) {
  const uint64_t seed = tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t people = std::uniform_int_distribution<size_t>(1, 2'000'000)(rng);
    const size_t count =
        std::uniform_int_distribution<size_t>(1, std::min<size_t>(people, 5000))(rng);
    const uint64_t draw = rng();
    const std::vector<size_t> sample = EvaluationSample(draw, people, count);
    ASSERT_EQ(sample.size(), count) << people << " people";
    EXPECT_EQ(sample, EvaluationSample(draw, people, count)) << "the same seed, the same people";
    for (size_t i = 0; i < sample.size(); ++i) {
      ASSERT_LT(sample[i], people);
      if (i > 0) {
        ASSERT_LT(sample[i - 1], sample[i]) << "sorted and distinct";
      }
    }
    if (count >= 20 && count * 4 < people) {
      EXPECT_NE(sample, EvaluationSample(draw + 1, people, count)) << "another seed, others";
    }
  }
  EXPECT_EQ(EvaluationSample(3, 5, 0), (std::vector<size_t>{0, 1, 2, 3, 4})) << "0: everyone";
  EXPECT_EQ(EvaluationSample(3, 5, 9), (std::vector<size_t>{0, 1, 2, 3, 4}));
}

// The generated population (people made when selected) trains the very model
// the eager tokens train, and eval_people scores the sample's people exactly
// as a full evaluation scores them.
TEST(GeneratedPopulation, RunsTheSameFederationAsEagerTokensAndSamplesItsEvaluation) {
  const uint64_t seed = tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  const int people = std::uniform_int_distribution<int>(8, 16)(rng);
  nlohmann::json json = SmallExperiment(people, 4, 2, rng() % 1000 + 1);
  json["task"]["aggregation"] = {{"weighting", "examples"}};
  auto config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok()) << config.status();
  config->population.seed = config->seed;
  auto eager = LoadPopulation(config->population);
  ASSERT_TRUE(eager.ok()) << eager.status();
  auto lazy = GeneratedPopulation::Create(config->population);
  ASSERT_TRUE(lazy.ok()) << lazy.status();

  auto full = RunSimulation(*config, *eager);
  ASSERT_TRUE(full.ok()) << full.status();
  auto generated = RunSimulation(*config, **lazy);
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_EQ(generated->final_parameters, full->final_parameters);
  ASSERT_EQ(full->final_evaluation.size(), static_cast<size_t>(people));
  EXPECT_TRUE(full->evaluation_sample.empty());

  const int sampled = std::uniform_int_distribution<int>(1, people - 1)(rng);
  json["simulation"]["eval_people"] = sampled;
  auto sampled_config = ParseExperimentConfig(json);
  ASSERT_TRUE(sampled_config.ok()) << sampled_config.status();
  sampled_config->population.seed = sampled_config->seed;
  auto with_sample = RunSimulation(*sampled_config, **lazy);
  ASSERT_TRUE(with_sample.ok()) << with_sample.status();
  EXPECT_EQ(with_sample->final_parameters, full->final_parameters) << "evaluation draws nothing";
  const std::vector<size_t> expected =
      EvaluationSample(DeriveSeed(config->seed, 0, 0, kEvaluationSampleSalt), people, sampled);
  ASSERT_EQ(with_sample->evaluation_sample, expected);
  ASSERT_EQ(with_sample->final_evaluation.size(), static_cast<size_t>(sampled));
  for (size_t j = 0; j < expected.size(); ++j) {
    EXPECT_EQ(with_sample->final_evaluation[j].top1, full->final_evaluation[expected[j]].top1);
    EXPECT_EQ(with_sample->final_evaluation[j].loss, full->final_evaluation[expected[j]].loss);
  }
}

TEST(EvalPeople, IsRefusedWithPersonalModelsAndSaidWhy) {
  nlohmann::json json = SmallExperiment(10, 4, 1, 3);
  json["simulation"]["eval_people"] = 5;
  json["evaluation"] = {{"personalization", {{"steps", 5}}}};
  auto config = ParseExperimentConfig(json);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("eval_people"), std::string::npos) << config.status();
  json.erase("evaluation");
  json["simulation"]["eval_people"] = -1;
  EXPECT_FALSE(ParseExperimentConfig(json).ok());
}

// What a shard rank opens (shard_rank.cc): only the people it owns are read;
// asking for anyone else's tokens is an error, not a silent read.
TEST(ShardPopulation, ARankReadsOnlyThePeopleItOwns) {
  std::mt19937_64 rng(tacit::testing::TestSeed());
  tacit::testing::TempDir dir;
  const int people = std::uniform_int_distribution<int>(4, 11)(rng);
  for (int i = 0; i < people; ++i) {
    std::string text;
    for (int k = 0; k < 30; ++k) absl::StrAppend(&text, (rng() % 3) ? "ls\n" : "git\n");
    dir.Write(absl::StrCat("User", i), text);
  }
  PopulationSpec spec;
  spec.source = "sea-commands";
  spec.path = dir.path();
  const int ranks = std::uniform_int_distribution<int>(2, 5)(rng);
  for (int rank = 1; rank < ranks; ++rank) {
    PopulationLoadReport report;
    auto view = OpenPopulation(spec, &report, OwnedBy(rank, ranks));
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(report.people.size(), PeopleOfRank(rank, ranks, people).size())
        << "rank " << rank << " read only its own people";
    for (size_t i = 0; i < static_cast<size_t>(people); ++i) {
      EXPECT_EQ((*view)->Materialize(i).ok(), OwnerRank(i, ranks) == rank) << "person " << i;
    }
  }
}

}  // namespace
}  // namespace tacit::sim
