#pragma once

// Weighting stated, never silently changed: with weighting by examples and no
// task.aggregation.max_weight in the config, nobody is capped (the federated
// objective is the pooled one); with an explicit cap, the summary says how
// many people it caps.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population_source.h"
#include "common/token_stream.h"
#include "simulations/federation/experiment_config.h"

namespace tacit::sim {

struct WeightingReport {
  std::string description;  // the summary's and the console's line
  int capped = 0;           // people whose examples exceed max_weight
};

// A person's weight under weighting by examples: the tokens their training
// predicts (train tokens after the first), as PrepareLocalUpdate counts them.
double ExamplesOf(const PersonTokens& person);

// With examples weighting and max_weight not given, sets
// config.task.aggregation.max_weight to the largest person's examples (so the
// fixed-point scale stays bounded and nobody is capped); then describes the
// weighting and counts who is capped.
WeightingReport ResolveWeighting(ExperimentConfig& config, const std::vector<PersonTokens>& people);
// The same for any population. Examples weighting counts every person's
// examples: a generated population generates each person once (config.workers
// at a time, each dropped once counted: time, not memory); uniform weighting
// touches nobody. An error when a person cannot be materialised here.
absl::StatusOr<WeightingReport> ResolveWeighting(ExperimentConfig& config,
                                                 const Population& people);

}  // namespace tacit::sim
