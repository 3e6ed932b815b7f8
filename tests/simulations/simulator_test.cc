#include "simulations/federation/simulator.h"

#include <cmath>
#include <filesystem>
#include <random>

#include "client/examples/population.h"
#include "gtest/gtest.h"
#include "secure_agg/phase.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/report/run_output.h"
#include "tests/simulations/small_experiment.h"

namespace tacit::sim {
namespace {

TEST(SimulatorTest, SecureAggregationOnAndOffGiveTheSameModelUpToQuantization) {
  nlohmann::json json = SmallExperiment(8, 6, 2, 11);
  json["simulation"]["behaviour"] = {{"dropout", {{"share_keys", 0.15}, {"unmasking", 0.15}}}};
  SimRun secure = Simulate(json);
  json["simulation"]["secure_aggregation"] = false;
  SimRun plain = Simulate(json);
  ASSERT_EQ(secure.result.rounds.size(), plain.result.rounds.size());
  for (size_t i = 0; i < secure.result.rounds.size(); ++i) {
    EXPECT_EQ(secure.result.rounds[i].outcome, plain.result.rounds[i].outcome);
    EXPECT_EQ(secure.result.rounds[i].participants, plain.result.rounds[i].participants);
    EXPECT_EQ(secure.result.rounds[i].dropouts_per_phase,
              plain.result.rounds[i].dropouts_per_phase);
    // Federated evaluation: every survivor's held-out counts are in the
    // sum, decoded exactly from the secure sum (the plain sum agrees).
    const nlohmann::json& fed = secure.result.rounds[i].federated_evaluation;
    if (secure.result.rounds[i].outcome != "committed") continue;
    ASSERT_TRUE(fed.is_object());
    EXPECT_LT(fed.value("count_error_bound", 1.0), 0.5);
    EXPECT_EQ(fed.value("clients", -1), secure.result.rounds[i].participants);
    EXPECT_GT(fed.value("predictions", 0), 0);
    EXPECT_EQ(fed.value("predictions", -1),
              plain.result.rounds[i].federated_evaluation.value("predictions", -2));
    EXPECT_EQ(fed.value("top1_correct", -1),
              plain.result.rounds[i].federated_evaluation.value("top1_correct", -2));
  }
  EXPECT_EQ(secure.result.model_version, plain.result.model_version);
  EXPECT_LT(MaxAbsDifference(secure.result.final_parameters, plain.result.final_parameters), 1e-4);
  // The model moved: the comparison is not between two untouched initial models.
  EXPECT_GT(secure.result.model_version, 0);
}

TEST(SimulatorTest, IsDeterministicForASeed) {
  nlohmann::json json = SmallExperiment(8, 5, 2, 5);
  json["simulation"]["behaviour"] = {{"dropout", {{"masked_input", 0.1}}}, {"availability", 0.9}};
  SimRun a = Simulate(json);
  SimRun b = Simulate(json);
  ASSERT_EQ(a.result.rounds.size(), b.result.rounds.size());
  for (size_t i = 0; i < a.result.rounds.size(); ++i) {
    EXPECT_EQ(a.result.rounds[i].ToJson()["top1_pooled"],
              b.result.rounds[i].ToJson()["top1_pooled"]);
    EXPECT_EQ(a.result.rounds[i].selected, b.result.rounds[i].selected);
    EXPECT_EQ(a.result.rounds[i].dropouts_per_phase, b.result.rounds[i].dropouts_per_phase);
  }
  EXPECT_EQ(a.result.final_parameters, b.result.final_parameters);
  // Another seed selects and trains differently.
  SimRun c = Simulate(SmallExperiment(8, 5, 2, 6));
  EXPECT_NE(a.result.final_parameters, c.result.final_parameters);
}

// Property test: random cohort sizes and dropout rates in one phase at a time.
// Every round either commits with exactly the survivors the behaviour left, or
// is abandoned with a reason; without abandoned attempts the secure sum
// equals the plain one.
TEST(SimulatorTest, DropoutsInEveryPhaseAreSurvivedOrAbandonedCleanly) {
  std::mt19937 rng(2024);
  int total_dropped = 0, compared = 0;
  for (int phase = 0; phase < secagg::kPhaseCount; ++phase) {
    // A round survives fewer than a third of its clients dropping (clients
    // require a threshold above two thirds), and the plain sum it is compared
    // with never abandons, so the rates stay well below that.
    int cohort = 7 + static_cast<int>(rng() % 4);
    double rate = 0.05 + 0.1 * (rng() % 100) / 100.0;
    nlohmann::json json = SmallExperiment(cohort + 2, cohort, 2, 100 + phase);
    json["simulation"]["behaviour"] = {{"dropout", {{secagg::PhaseName(phase), rate}}}};
    json["simulation"]["max_attempts_per_round"] = 8;
    SimRun secure = Simulate(json);
    json["simulation"]["secure_aggregation"] = false;
    SimRun plain = Simulate(json);
    int dropped = 0;
    for (const RoundRecord& r : secure.result.rounds) {
      for (int other = 0; other < secagg::kPhaseCount; ++other) {
        if (other != phase) {
          EXPECT_EQ(r.dropouts_per_phase[other], 0) << secagg::PhaseName(phase);
        }
      }
      dropped += r.dropouts_per_phase[phase];
      if (r.outcome == "committed") {
        // Clients that vanish after sending their masked input (in the
        // consistency check or while unmasking) still have it in the sum.
        int lost = phase > secagg::PhaseIndex(secagg::Phase::kMaskedInput)
                       ? 0
                       : r.dropouts_per_phase[phase];
        EXPECT_EQ(r.participants, r.selected - lost) << secagg::PhaseName(phase);
      } else {
        EXPECT_EQ(r.outcome.rfind("abandoned: ", 0), 0u) << r.outcome;
      }
    }
    // The plain sum never abandons an attempt: it follows the same cohorts
    // only while the secure run abandoned none.
    bool abandoned = false;
    for (const RoundRecord& r : secure.result.rounds) abandoned |= r.outcome != "committed";
    if (!abandoned) {
      ++compared;
      EXPECT_LT(MaxAbsDifference(secure.result.final_parameters, plain.result.final_parameters),
                1e-4)
          << secagg::PhaseName(phase);
    }
    total_dropped += dropped;
    SCOPED_TRACE(testing::Message()
                 << secagg::PhaseName(phase) << " rate " << rate << " dropped " << dropped);
  }
  EXPECT_GT(total_dropped, 0) << "the seed must make someone vanish";
  EXPECT_GE(compared, 2) << "the seed must leave most phases without an abandoned attempt";
}

// A round that cannot commit is retried as the coordinator retries it, and
// after max_attempts_per_round attempts the run stops with an error naming
// the round and the key: never a silently skipped round. Every attempt is
// recorded and the model is untouched.
TEST(SimulatorTest, ARoundThatCannotCommitStopsTheRunLoudly) {
  for (const char* transport : {"in_process", "grpc"}) {
    SCOPED_TRACE(transport);
    nlohmann::json json = SmallExperiment(6, 6, 1, 3);
    json["task"]["cohort"]["min_survivors"] = 6;
    json["simulation"]["transport"] = transport;
    json["simulation"]["behaviour"] = {{"dropout", {{"share_keys", 0.99}}}};
    json["simulation"]["max_attempts_per_round"] = 2;
    auto config = ParseExperimentConfig(json);
    ASSERT_TRUE(config.ok()) << config.status();
    config->population.seed = config->seed;
    auto people = LoadPopulation(config->population);
    ASSERT_TRUE(people.ok()) << people.status();
    const std::string folder = ::testing::TempDir() + "/tacit-stops-" + transport;
    std::filesystem::remove_all(folder);
    auto output = RunOutput::Create(folder, ExperimentConfigToJson(*config));
    ASSERT_TRUE(output.ok()) << output.status();
    SimulationHooks hooks;
    hooks.output = output->get();
    auto result = RunSimulation(*config, *people, hooks);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
    EXPECT_NE(result.status().message().find("round 1 did not commit in 2 attempts"),
              std::string::npos)
        << result.status();
    EXPECT_NE(result.status().message().find("simulation.max_attempts_per_round"),
              std::string::npos);
    const std::vector<RoundRecord>& rounds = (*output)->rounds();
    ASSERT_EQ(rounds.size(), 2u);
    for (const RoundRecord& r : rounds) {
      EXPECT_EQ(r.outcome.rfind("abandoned: ", 0), 0u) << r.outcome;
      EXPECT_EQ(r.model_version, 0);
      EXPECT_EQ(r.dropouts_per_phase[1], 6);
    }
    std::filesystem::remove_all(folder);
  }
}

TEST(ExperimentConfigTest, MistakesNameTheKey) {
  struct Case {
    std::function<void(nlohmann::json&)> mutate;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](nlohmann::json& j) { j["simulation"]["behaviour"]["dropuot"] = 0.1; },
       "simulation.behaviour.dropuot"},
      {[](nlohmann::json& j) { j["population"]["train_fraction"] = 1.5; },
       "population.train_fraction"},
      {[](nlohmann::json& j) { j["population"]["source"] = "keylogger"; }, "population.source"},
      {[](nlohmann::json& j) { j["task"]["rounds"] = "ten"; }, "config key 'task.rounds'"},
      {[](nlohmann::json& j) { j["task"]["training"]["optimizer"] = "adamw"; },
       "config key 'task.training.optimizer'"},
      {[](nlohmann::json& j) { j["task"]["model"]["hyperparameters"]["hiden_dim"] = 3; },
       "config key 'task.model': "},
      {[](nlohmann::json& j) { j["task"]["model"]["hyperparameters"]["hiden_dim"] = 3; },
       "hiden_dim"},
      {[](nlohmann::json& j) { j["simulation"]["transport"] = "carrier-pigeon"; },
       "simulation.transport"},
      {[](nlohmann::json& j) { j.erase("task"); }, "task"},
      {[](nlohmann::json& j) { j["seeed"] = 3; }, "seeed"},
  };
  for (const Case& c : cases) {
    nlohmann::json json = SmallExperiment(4, 3, 1, 1);
    c.mutate(json);
    auto config = ParseExperimentConfig(json);
    ASSERT_FALSE(config.ok()) << c.expected;
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
        << config.status().message();
  }
}

TEST(ExperimentConfigTest, ResolvedConfigParsesBackToTheSameExperiment) {
  auto config = ParseExperimentConfig(SmallExperiment(4, 3, 1, 9));
  ASSERT_TRUE(config.ok()) << config.status();
  nlohmann::json resolved = ExperimentConfigToJson(*config);
  auto again = ParseExperimentConfig(resolved);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ExperimentConfigToJson(*again), resolved);
  EXPECT_EQ(again->model, config->model);
}

}  // namespace
}  // namespace tacit::sim
