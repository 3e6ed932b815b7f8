#pragma once

// `tacit-sim run`: one experiment into its output folder, or replicates (one
// per seed, in OUT/seed-N/) followed by a summary with mean and spread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/simulated_laptops.h"

namespace tacit::sim {

// Where a run's laptops live when not in this process (the MPI ranks'
// shards, simulations/mpi/): `make` is called once per simulation, after the
// population is loaded and the config resolved; `description` names it in the
// report ("MPI: rank 0 coordinator, 2 shard ranks").
struct LaptopPlacement {
  std::function<absl::StatusOr<std::unique_ptr<SimulatedLaptops>>(const ExperimentConfig&,
                                                                  const Population&)>
      make;
  std::string description;
};

// Runs `config` (its `seed`) into `out`; prints progress and results. Returns
// the process exit code: 0 done, 1 failed, 2 a config problem.
int RunExperiment(ExperimentConfig config, const std::string& out,
                  const LaptopPlacement& placement = {});

// Runs `config` once per seed, sequentially, into OUT/seed-N/, then writes
// OUT/summary.md (each metric's mean, min, max and standard deviation) and
// OUT/accuracy.svg (the mean with its min-max band). Exit code as above.
int RunReplicates(const ExperimentConfig& config, const std::vector<uint64_t>& seeds,
                  const std::string& out, const LaptopPlacement& placement = {});

// `tacit-sim inspect-data`: loads the population as a run would and prints
// InspectPopulation. Exit code as above.
int InspectData(const ExperimentConfig& config);

// "runs/<name>-<local time>".
std::string DefaultOutputFolder(const std::string& name);

}  // namespace tacit::sim
