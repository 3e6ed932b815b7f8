#pragma once

// A simulated federation as the researcher writes it (JSON; every key and its
// default in docs/simulation.md): where the people come from, the coordinator's
// task config unchanged, and how the simulated clients behave. Mistakes are
// reported naming the key, as for the coordinator's task config.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population.h"
#include "models/model_config.h"
#include "models/training.h"
#include "nlohmann/json.hpp"
#include "secure_agg/phase.h"
#include "task/task_config.h"

namespace tacit::sim {

// How simulated clients behave, beyond what the task asks of them.
struct ClientBehaviour {
  // Probability that a client still in the round vanishes in each secure
  // aggregation phase (advertise_keys, share_keys, masked_input, unmasking).
  std::array<double, secagg::kPhaseCount> dropout{};  // secure_agg/phase.h order
  // Share of selected clients too slow for the training deadline (dropped
  // before advertising keys; counted as stragglers, not dropouts).
  double straggler_rate = 0;
  // Share of the population eligible (charging, idle, unmetered) each round.
  double availability = 1;
};

// Per-person fine-tuning of the global model on the person's own train part
// (the personal model a laptop keeps for itself), evaluated on the person's
// test part beside the global model. Off when steps is 0.
struct PersonalizationConfig {
  int steps = 0;  // local optimizer steps from the final global model
  double lr = 0;  // 0 = the task's local training lr
  bool enabled() const { return steps > 0; }
};

struct ExperimentConfig {
  std::string name = "experiment";
  uint64_t seed = 1;
  // Replicates (`seeds`: [1, 2, 3] or tacit-sim run --seeds 1,2,3): one run
  // per seed in OUT/seed-N/, then a summary with mean and spread. Empty: one
  // run with `seed`.
  std::vector<uint64_t> seeds;
  PopulationSpec population;  // vocab size and salt come from task.vocab
  TaskConfig task;
  ModelConfig model;      // task.model resolved for models/
  TrainOptions training;  // task.training resolved for models/ (seed set per client)
  bool secure_aggregation = true;
  ClientBehaviour behaviour;
  int workers = 0;     // training threads; 0 = all cores
  int eval_every = 1;  // evaluate the global model every N rounds (and the last)
  // simulation.eval_people: evaluate on a fixed seeded sample of this many
  // people (simulator.h EvaluationSample); 0 = everyone.
  int eval_people = 0;
  int max_attempts_per_round = 3;        // attempts at one round before the run stops (Aborted)
  std::string transport = "in_process";  // or "grpc" (grpc_federation.h)
  std::optional<double> reference_top1;  // drawn on the accuracy plot when given
  std::string reference_label = "central reference";
  PersonalizationConfig personalization;  // evaluation.personalization
  // task.aggregation.max_weight as written: unset with examples weighting
  // means "nobody capped" (ResolveMaxWeight sets it from the population).
  bool max_weight_given = false;
  // Set by ResolveWeighting: max_weight holds the population's answer, so
  // RunSimulation need not scan the population again (not in config.json).
  bool weighting_resolved = false;
};

// Parses and validates; InvalidArgument/OutOfRange naming the key on mistakes.
absl::StatusOr<ExperimentConfig> ParseExperimentConfig(const nlohmann::json& json);
// `transport`, when not empty, replaces simulation.transport before parsing
// (tacit-sim run --transport).
absl::StatusOr<ExperimentConfig> LoadExperimentConfigFile(const std::string& path,
                                                          const std::string& transport = "");

// "1,2,3" -> {1, 2, 3}; InvalidArgument naming the flag otherwise.
absl::StatusOr<std::vector<uint64_t>> ParseSeedList(const std::string& text);

// The config with every default filled in, as written to the run folder.
nlohmann::json ExperimentConfigToJson(const ExperimentConfig& config);

}  // namespace tacit::sim
