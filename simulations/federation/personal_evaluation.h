#pragma once

// Personal models in the simulator (evaluation.personalization): every person
// fine-tunes the final global model on their own train part, as a laptop does
// for on-device prediction (client/federated/personal_model.h), and both
// models are scored on the person's test part beside the person's own bigram
// baseline.

#include <vector>

#include "absl/status/statusor.h"
#include "common/token_stream.h"
#include "models/evaluation.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/report/run_output.h"

namespace tacit::sim {

// Top-1 of "the most frequent next token after the previous one", counted on
// the person's train part and scored on the test part (the first test token
// predicted from the last train token). Ties go to the smaller token id. 0
// for a person without test tokens.
double BigramTop1(const PersonTokens& person);

// One row per person, in the order given, `workers` people at a time.
// Training seeds derive from config.seed and the person's index.
// `global_evaluation` is `global` already scored on each person's test part
// (SimulationResult::final_evaluation): its figures are the rows' global
// top-1 and predictions, so the global model is not evaluated a second time.
// InvalidArgument when it does not hold one result per person.
absl::StatusOr<std::vector<PersonalRow>> EvaluatePersonalModels(
    const ExperimentConfig& config, const std::vector<float>& global,
    const std::vector<EvalResult>& global_evaluation, const std::vector<PersonTokens>& people);

}  // namespace tacit::sim
