#include "client/federated/local_update.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/federated/held_out_evaluation.h"
#include "common/status_macros.h"
#include "models/flat_vector.h"

namespace tacit {
namespace {

// `held_out` may be null (nothing to evaluate on).
absl::StatusOr<PreparedUpdate> Prepare(const LocalUpdateTask& task,
                                       const std::vector<float>& global,
                                       const std::vector<int32_t>& train_tokens,
                                       const PersonTokens* held_out, const NoiseAdder& add_noise) {
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
  PreparedUpdate prepared;
  // The model as downloaded is scored before training changes anything.
  if (task.evaluation && held_out != nullptr) {
    TACIT_ASSIGN_OR_RETURN(prepared.evaluation, EvaluateHeldOut(task.model, global, *held_out,
                                                                task.evaluation->max_predictions));
  }
  TACIT_ASSIGN_OR_RETURN(LocalUpdate trained,
                         TrainLocally(task.model, global, train_tokens, task.training));
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
  if (task.evaluation) {
    // Appended after clipping and noising: the counts are bounded by their
    // encoding, not by the L2 clip, and carry no DP noise.
    TACIT_ASSIGN_OR_RETURN(
        auto encoded, EncodeEvaluation(*task.evaluation, prepared.evaluation, prepared.weight));
    prepared.update.insert(prepared.update.end(), encoded.begin(), encoded.end());
  }
  return prepared;
}

}  // namespace

absl::StatusOr<PreparedUpdate> PrepareLocalUpdate(const LocalUpdateTask& task,
                                                  const std::vector<float>& global,
                                                  const PersonTokens& data,
                                                  const NoiseAdder& add_noise) {
  return Prepare(task, global, data.train, &data, add_noise);
}

absl::StatusOr<PreparedUpdate> PrepareLocalUpdate(const LocalUpdateTask& task,
                                                  const std::vector<float>& global,
                                                  const std::vector<int32_t>& train_tokens,
                                                  const NoiseAdder& add_noise) {
  return Prepare(task, global, train_tokens, nullptr, add_noise);
}

}  // namespace tacit
