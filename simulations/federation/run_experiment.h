#pragma once

// `tacit-sim run`: one experiment into its output folder, or replicates (one
// per seed, in OUT/seed-N/) followed by a summary with mean and spread.

#include <cstdint>
#include <string>
#include <vector>

#include "simulations/federation/experiment_config.h"

namespace tacit::sim {

// Runs `config` (its `seed`) into `out`; prints progress and results. Returns
// the process exit code: 0 done, 1 failed, 2 a config problem.
int RunExperiment(ExperimentConfig config, const std::string& out);

// Runs `config` once per seed, sequentially, into OUT/seed-N/, then writes
// OUT/summary.md (each metric's mean, min, max and standard deviation) and
// OUT/accuracy.svg (the mean with its min-max band). Exit code as above.
int RunReplicates(const ExperimentConfig& config, const std::vector<uint64_t>& seeds,
                  const std::string& out);

// `tacit-sim inspect-data`: loads the population as a run would and prints
// InspectPopulation. Exit code as above.
int InspectData(const ExperimentConfig& config);

// "runs/<name>-<local time>".
std::string DefaultOutputFolder(const std::string& name);

}  // namespace tacit::sim
