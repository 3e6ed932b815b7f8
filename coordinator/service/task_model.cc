#include "coordinator/service/task_model.h"

#include "absl/strings/str_cat.h"

namespace tacit::coordinator {

absl::StatusOr<::tacit::ModelConfig> ResolveTaskModel(const TaskConfig& task) {
  nlohmann::json model = task.model.hyperparameters;
  if (model.contains("vocab_size") || model.contains("name")) {
    return absl::InvalidArgumentError(
        "task key 'model.hyperparameters' must not set 'name' or 'vocab_size': they come from "
        "'model.name' and 'vocab.size'");
  }
  model["name"] = task.model.name;
  model["vocab_size"] = task.vocab.size;
  auto resolved = ::tacit::ModelConfig::FromJson(model);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("task key 'model': ", resolved.status().message()));
  }
  return resolved;
}

}  // namespace tacit::coordinator
