#pragma once

// A selected client's evaluation of the global model it downloaded, on its
// own held-out tokens (the newest part of its stream, which it does not train
// on). Only the counts, masked inside the secure sum, leave the device
// (task/federated_evaluation.h).

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/token_stream.h"
#include "models/model_config.h"
#include "task/federated_evaluation.h"

namespace tacit {

// Scores `global` on the newest `max_predictions` tokens of `data.test`, each
// predicted from the tokens before it (models' Evaluate). No held-out token:
// counts of zero clients. Errors are Evaluate's.
absl::StatusOr<EvaluationCounts> EvaluateHeldOut(const ModelConfig& model,
                                                 const std::vector<float>& global,
                                                 const PersonTokens& data, int64_t max_predictions);

}  // namespace tacit
