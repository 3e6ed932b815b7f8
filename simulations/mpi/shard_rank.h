#pragma once

// A shard rank (every rank but 0) of `mpirun -np N tacit-sim run`: it loads
// the population as rank 0 does, keeps the laptops of the people it owns
// (shard_layout.h) in a LocalLaptops and carries out rank 0's commands
// (proto/tacit/sim/v1/shard.proto) until told to shut down. It writes no
// output folder: rank 0 reports the run.

#include <cstdint>
#include <vector>

#include "simulations/federation/experiment_config.h"
#include "simulations/mpi/mpi_world.h"

namespace tacit::sim {

// `config` is this rank's reading of the command line's config and `seeds`
// the replicates it names (empty: config.seed); rank 0 runs them one by one
// and a seed this rank was not given is refused. Returns the process exit
// code: 0 after Shutdown, 1 when the link to rank 0 failed.
int ServeShard(MpiWorld& world, const ExperimentConfig& config, std::vector<uint64_t> seeds);

}  // namespace tacit::sim
