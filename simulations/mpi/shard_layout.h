#pragma once

// Which MPI rank owns which simulated person, and what every rank must agree
// on before a simulation starts. Rank 0 runs the coordinator's round and owns
// nobody; person i lives on rank 1 + i mod (ranks - 1), so consecutive people
// (the generator's five personas in turn) spread over the shards.

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population_source.h"
#include "common/token_stream.h"
#include "simulations/federation/experiment_config.h"
#include "tacit/sim/v1/shard.pb.h"

namespace tacit::sim {

int OwnerRank(size_t person, int ranks);

// The people `rank` owns among `people` (none for rank 0).
std::vector<size_t> PeopleOfRank(int rank, int ranks, size_t people);

// SHA-256 of the resolved config (as config.json holds it) and the
// population's fingerprint (population_source.h): for a folder, every
// person's id, file names and sizes, so that no rank reads everyone's logs to
// agree; for the generator, its settings.
absl::StatusOr<v1::Digests> DigestsOf(const ExperimentConfig& config, const Population& people);
// The same for people given as tokens: every person's id and tokens in order.
absl::StatusOr<v1::Digests> DigestsOf(const ExperimentConfig& config,
                                      const std::vector<PersonTokens>& people);

// The people `rank` reads: those it owns (a shard's view of the population).
PersonFilter OwnedBy(int rank, int ranks);

// OK when `theirs` (rank `rank`'s) equals `ours`; otherwise
// FailedPrecondition naming the rank and what differs.
absl::Status CheckSameRun(int rank, const v1::Digests& ours, const v1::Digests& theirs);

}  // namespace tacit::sim
