#pragma once

// The personal model: the global model fine-tuned for a few steps on one
// person's own training tokens, for on-device prediction. The fleet client
// calls it after a round when the task asks (task.personalization,
// client/runtime/personal_model_store.h); the simulator to report how much
// a personal model helps (evaluation.personalization). Nothing here sends
// or saves anything.
// A small entry point over the trainer's public API (models/training.h).

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/model_config.h"
#include "models/training.h"

namespace tacit {

struct PersonalizationOptions {
  int steps = 0;  // optimizer steps from the global model; must be >= 1
  double lr = 0;  // > 0
  // Wall-clock cap (s); 0 = none, so the simulator's results never depend on
  // the machine's speed. The fleet client caps it at the round's training
  // budget: a task asking for many steps cannot keep a laptop busy longer.
  double max_seconds = 0;
};

// `training` supplies the optimizer, batch, stride and seed (the task's local
// training); steps and lr come from `personal`. Returns the personal model's
// parameters (global + the fine-tuning delta). InvalidArgument for steps < 1,
// lr <= 0 or fewer than 2 training tokens (nothing to learn from).
absl::StatusOr<std::vector<float>> FineTunePersonalModel(const ModelConfig& model,
                                                         const std::vector<float>& global,
                                                         const std::vector<int32_t>& train,
                                                         const TrainOptions& training,
                                                         const PersonalizationOptions& personal);

}  // namespace tacit
