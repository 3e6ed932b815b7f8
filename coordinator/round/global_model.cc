#include "coordinator/round/global_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::coordinator {

absl::StatusOr<GlobalModel> GlobalModel::Create(const TaskConfig& task, std::vector<float> initial,
                                                int64_t population) {
  if (initial.empty()) return absl::InvalidArgumentError("the initial model has no parameters");
  if (population < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("population must be at least 1, got ", population));
  }
  TACIT_ASSIGN_OR_RETURN(ServerOptimizer optimizer,
                         ServerOptimizer::Create(task.server_optimizer, initial.size()));
  return GlobalModel(task, std::move(initial), std::move(optimizer), population);
}

absl::Status GlobalModel::ApplyRound(const std::vector<float>& mean_update, int cohort_size) {
  if (cohort_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("cohort size must be >= 1, got ", cohort_size));
  }
  TACIT_RETURN_IF_ERROR(optimizer_.Apply(mean_update, absl::MakeSpan(parameters_)));
  ++version_;
  if (task_.dp.noise_multiplier > 0) {
    double q = std::min(1.0, static_cast<double>(cohort_size) / population_);
    TACIT_RETURN_IF_ERROR(accountant_.ComposeSampledGaussian(q, task_.dp.noise_multiplier));
    TACIT_ASSIGN_OR_RETURN(PrivacySpent spent, accountant_.Spent(task_.dp.delta));
    epsilon_ = spent.epsilon;
  }
  return absl::OkStatus();
}

}  // namespace tacit::coordinator
