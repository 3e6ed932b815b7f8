#include "client/federated/personal_model.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<std::vector<float>> FineTunePersonalModel(const ModelConfig& model,
                                                         const std::vector<float>& global,
                                                         const std::vector<int32_t>& train,
                                                         const TrainOptions& training,
                                                         const PersonalizationOptions& personal) {
  if (personal.steps < 1 || !(personal.lr > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("personalization needs steps >= 1 and lr > 0, got steps ", personal.steps,
                     " and lr ", personal.lr));
  }
  if (train.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a personal model needs at least 2 training tokens, the person has ", train.size()));
  }
  TrainOptions options = training;
  options.lr = personal.lr;
  options.max_steps = personal.steps;
  // Enough passes over the person's windows to take every step asked for:
  // max_steps stops training at exactly that many.
  options.epochs = personal.steps;
  options.wall_clock_budget_s = personal.max_seconds;
  TACIT_ASSIGN_OR_RETURN(LocalUpdate update, TrainLocally(model, global, train, options));
  std::vector<float> personal_model = global;
  for (size_t i = 0; i < personal_model.size(); ++i) personal_model[i] += update.delta[i];
  return personal_model;
}

}  // namespace tacit
