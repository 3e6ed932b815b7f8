#pragma once

// A federation simulated on one machine with the production code: the
// coordinator's round planning, secure aggregation round and global model
// (coordinator/round/), the client's local update (client/federated/), the
// SecAgg client and server state machines (secure_agg/) and the trainer
// (models/). Only the transport is swapped: messages are handed over in
// memory (`in_process`), or the coordinator service and fleet clients talk
// gRPC with mutual TLS on loopback (`grpc`, grpc_federation.h). Clients are
// tasks on a bounded set of threads (simulated_laptops.h), in this process or
// on the MPI ranks that own their people; a person who is not training holds
// only their tokens.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population_source.h"
#include "common/token_stream.h"
#include "models/evaluation.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/simulated_laptops.h"
#include "simulations/report/progress_line.h"
#include "simulations/report/round_record.h"
#include "simulations/report/run_output.h"

namespace tacit::sim {

struct SimulationHooks {
  RunOutput* output = nullptr;       // rounds appended as they end (optional)
  ProgressLine* progress = nullptr;  // live progress (optional)
  // The gRPC transport's folder (fleet PKI, coordinator state and log, client
  // folders); empty: a temporary folder, removed at the end.
  std::string grpc_folder;
  // Where the selected people's laptops live (the in-process transport):
  // null = in this process; simulations/mpi gives the MPI ranks' shards.
  SimulatedLaptops* laptops = nullptr;
};

struct SimulationResult {
  std::vector<float> final_parameters;
  int64_t model_version = 0;
  std::vector<RoundRecord> rounds;  // every attempt, abandoned ones included
  double epsilon = 0;
  // The final model scored on each person's test part, in the order of the
  // people given: the last round's evaluation (the last round is always
  // evaluated), kept so personal evaluation need not score it again. With
  // simulation.eval_people, the sample's scores in evaluation_sample's order.
  std::vector<EvalResult> final_evaluation;
  // simulation.eval_people's sample (EvaluationSample), empty: everyone.
  std::vector<size_t> evaluation_sample;
};

// The people simulation.eval_people scores at every evaluation: `count` of
// `people` drawn without replacement from `seed` (the same sample at every
// evaluation of a run, so the curve follows one group), in increasing order.
// Everyone (0..people-1) when count is 0 or at least `people`.
std::vector<size_t> EvaluationSample(uint64_t seed, size_t people, size_t count);

// Runs config.task.rounds committed rounds, with the weighting
// ResolveWeighting (weighting.h) decides for `people`. An abandoned attempt is retried, as
// the coordinator retries it; a round still uncommitted after
// max_attempts_per_round attempts ends the run with Aborted (the attempts so
// far are in hooks.output). Deterministic for a
// config and seed: selection, behaviour, training seeds and DP noise are drawn
// from the seed; secure aggregation keys are fresh but cancel exactly.
//
// The population is touched only through Population: selection draws from
// its size, and only the selected (and evaluated) people are materialised,
// so a generated population of 10^6 people costs nothing while idle.
absl::StatusOr<SimulationResult> RunSimulation(const ExperimentConfig& config,
                                               const Population& people,
                                               const SimulationHooks& hooks = {});
// The same over people loaded as tokens.
absl::StatusOr<SimulationResult> RunSimulation(const ExperimentConfig& config,
                                               const std::vector<PersonTokens>& people,
                                               const SimulationHooks& hooks = {});

}  // namespace tacit::sim
