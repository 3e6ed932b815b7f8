#include "client/federated/local_update.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/flat_vector.h"

namespace tacit {

absl::StatusOr<PreparedUpdate> PrepareLocalUpdate(const LocalUpdateTask& task,
                                                  const std::vector<float>& global,
                                                  const std::vector<int32_t>& train_tokens,
                                                  const NoiseAdder& add_noise) {
  if (!(task.clip_norm > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("update clip norm must be positive, got ", task.clip_norm));
  }
  if (task.noise_stddev < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("noise standard deviation must be >= 0, got ", task.noise_stddev));
  }
  if (task.noise_stddev > 0 && !add_noise) {
    return absl::FailedPreconditionError(
        "the task asks for DP noise but no noise sampler was given");
  }
  if (!(task.max_weight >= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_weight must be >= 1, got ", task.max_weight));
  }
  TACIT_ASSIGN_OR_RETURN(LocalUpdate trained,
                         TrainLocally(task.model, global, train_tokens, task.training));
  PreparedUpdate prepared;
  prepared.train_loss = trained.train_loss;
  prepared.steps = trained.steps;
  prepared.examples = trained.examples;
  prepared.train_seconds = trained.seconds;
  prepared.update = std::move(trained.delta);
  prepared.norm_before_clip = ClipL2(prepared.update, task.clip_norm);
  prepared.clipped = prepared.norm_before_clip > task.clip_norm;
  if (task.noise_stddev > 0) add_noise(absl::MakeSpan(prepared.update), task.noise_stddev);
  prepared.weight = task.weight_by_examples
                        ? std::min<double>(static_cast<double>(prepared.examples), task.max_weight)
                        : 1.0;
  return prepared;
}

}  // namespace tacit
