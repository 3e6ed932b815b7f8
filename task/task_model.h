#pragma once

// The model a task trains, resolved for models/: the task's model name and
// hyperparameters with the task's vocabulary size. The coordinator (initial
// model, model files) and the fleet client (local training) resolve it here,
// so both always mean the same network.

#include "absl/status/statusor.h"
#include "models/model_config.h"
#include "models/training.h"
#include "task/task_config.h"

namespace tacit {

// InvalidArgument naming 'model' (after `key_prefix`, as in ParseTaskConfig)
// when the hyperparameters repeat name or vocab_size, or describe an invalid
// model.
absl::StatusOr<::tacit::ModelConfig> ResolveTaskModel(const TaskConfig& task,
                                                      const std::string& key_prefix = "");

// The task's local-training section as trainer options: epochs, batch size,
// learning rate, optimizer, FedProx mu and the wall-clock budget. Threads and
// seed are left for the caller (the fleet client and the simulator differ).
::tacit::TrainOptions TrainOptionsOfTask(const TaskConfig& task);

}  // namespace tacit
