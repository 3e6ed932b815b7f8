#include "task/task_model.h"

#include "absl/strings/str_cat.h"

namespace tacit {

absl::StatusOr<::tacit::ModelConfig> ResolveTaskModel(const TaskConfig& task,
                                                      const std::string& key_prefix) {
  const std::string prefix = key_prefix.empty() ? "" : absl::StrCat(key_prefix, ".");
  nlohmann::json model = task.model.hyperparameters;
  if (model.contains("vocab_size") || model.contains("name")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key '", prefix, "model.hyperparameters' must not set 'name' or 'vocab_size': ",
        "they come from '", prefix, "model.name' and '", prefix, "vocab.size'"));
  }
  model["name"] = task.model.name;
  model["vocab_size"] = task.vocab.size;
  auto resolved = ::tacit::ModelConfig::FromJson(model);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key '", prefix, "model': ", resolved.status().message()));
  }
  // The trainer refuses such a stride, so every laptop would fail every round
  // (and a simulation would abandon each with no update): refused here, where
  // check-config, serve, the simulator and the laptop all resolve the model.
  if (task.training.window_stride > resolved->window) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key '", prefix, "training.window_stride' = ", task.training.window_stride,
        " is larger than the model's window of ", resolved->window,
        " tokens: tokens between windows would never be trained on; use at most ", resolved->window,
        " (0 = the window)"));
  }
  return resolved;
}

::tacit::TrainOptions TrainOptionsOfTask(const TaskConfig& task) {
  ::tacit::TrainOptions t;
  t.epochs = task.training.epochs;
  t.batch_size = task.training.batch_size;
  t.lr = task.training.lr;
  t.optimizer = task.training.optimizer;
  t.fedprox_mu = task.training.fedprox_mu;
  t.wall_clock_budget_s = task.training.max_seconds;
  t.stride = task.training.window_stride;
  return t;
}

}  // namespace tacit
