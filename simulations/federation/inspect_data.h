#pragma once

// `tacit-sim inspect-data --config F`: what a run would train and test on,
// before a long run: the limit in effect and skipped lines, per person the
// events read, train/test tokens and windows, the split, and the vocabulary
// coverage of the test tokens.

#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population.h"
#include "common/token_stream.h"
#include "simulations/federation/experiment_config.h"

namespace tacit::sim {

// Coverage of test tokens by training tokens. "In vocabulary" = the token
// occurs in some person's train part (the federated model can have learned
// it); OOV = it occurs in no train part. "Own" = in the person's own train part.
struct Coverage {
  int64_t test_tokens = 0;
  int64_t in_vocabulary = 0;
  int64_t in_own_train = 0;
};
// `pooled`: every token of every person's train part (PooledTrainTokens).
Coverage CoverageOf(const std::unordered_set<int32_t>& pooled, const PersonTokens& person);
std::unordered_set<int32_t> PooledTrainTokens(const std::vector<PersonTokens>& people);

// The report as printed: a header, then one table row per person and totals.
std::string InspectPopulation(const ExperimentConfig& config,
                              const std::vector<PersonTokens>& people,
                              const PopulationLoadReport& load);

}  // namespace tacit::sim
