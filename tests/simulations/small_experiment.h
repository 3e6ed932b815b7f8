#pragma once

// Small federations shared by the simulation tests.

#include <algorithm>
#include <cmath>
#include <vector>

#include "client/examples/population.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/simulator.h"

namespace tacit::sim {

// A tiny federation that trains in well under a second per round on one core.
inline nlohmann::json SmallExperiment(int people, int cohort, int rounds, uint64_t seed) {
  return {
      {"name", "small"},
      {"seed", seed},
      {"population", {{"source", "generator"}, {"people", people}, {"max_events_per_person", 300}}},
      {"task",
       {{"name", "small-task"},
        {"model",
         {{"name", "gru"},
          {"hyperparameters",
           {{"embedding_dim", 16}, {"hidden_dim", 24}, {"layers", 1}, {"window", 16}}}}},
        {"vocab", {{"size", 256}, {"salt", "test-salt"}}},
        {"rounds", rounds},
        {"cohort", {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", 3}}},
        {"secure_agg", {{"bits", 40}, {"clip_range", 1.0}}},
        {"dp", {{"clip_norm", 1.0}}},
        {"server_optimizer", {{"type", "fedavg"}, {"lr", 1.0}}},
        {"training", {{"epochs", 1}, {"batch_size", 8}, {"lr", 0.01}, {"optimizer", "adam"}}}}},
      {"simulation", {{"workers", 2}}}};
}

struct SimRun {
  ExperimentConfig config;
  SimulationResult result;
};

inline SimRun Simulate(const nlohmann::json& json, const SimulationHooks& hooks = {}) {
  auto config = ParseExperimentConfig(json);
  EXPECT_TRUE(config.ok()) << config.status();
  config->population.seed = config->seed;
  auto people = LoadPopulation(config->population);
  EXPECT_TRUE(people.ok()) << people.status();
  auto result = RunSimulation(*config, *people, hooks);
  EXPECT_TRUE(result.ok()) << result.status();
  return {*config, *result};
}

inline double MaxAbsDifference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  return worst;
}

}  // namespace tacit::sim
