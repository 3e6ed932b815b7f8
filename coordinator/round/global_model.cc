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

absl::StatusOr<GlobalModel> GlobalModel::Restore(const TaskConfig& task,
                                                 std::vector<float> parameters, int64_t version,
                                                 const std::string& optimizer_state,
                                                 int64_t population,
                                                 const std::vector<int>& committed_cohort_sizes) {
  if (parameters.empty()) return absl::InvalidArgumentError("the checkpoint has no parameters");
  if (population < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("population must be at least 1, got ", population));
  }
  if (version < 0 || static_cast<size_t>(version) != committed_cohort_sizes.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model version ", version, " does not match the ",
                     committed_cohort_sizes.size(), " committed rounds in the state"));
  }
  TACIT_ASSIGN_OR_RETURN(
      ServerOptimizer optimizer,
      ServerOptimizer::Restore(task.server_optimizer, parameters.size(), optimizer_state));
  GlobalModel model(task, std::move(parameters), std::move(optimizer), population);
  model.version_ = version;
  for (int cohort_size : committed_cohort_sizes) {
    TACIT_RETURN_IF_ERROR(model.ComposePrivacy(cohort_size));
  }
  return model;
}

namespace {

// `rounds` committed rounds into `accountant`, for the model and for projections.
absl::Status ComposeRounds(const TaskConfig& task, int64_t rounds,
                           privacy::RdpAccountant& accountant) {
  // Not cohort / population: the coordinator seats whoever checks in first,
  // which is no random sample. Only the laptops' own coins (random check-ins)
  // give amplification, at their probability (DpConfig::AccountedSamplingRate).
  // The discrete Gaussian is planned to be at least as private as the
  // Gaussian at z at every order (task/ddg_task.h), but is not a Gaussian:
  // subsampled, it gets the general bound, not the Gaussian's own.
  const double q = task.dp.AccountedSamplingRate();
  if (task.dp.mechanism == DpMechanism::kDiscreteGaussian) {
    return accountant.ComposeGaussianDominated(q, task.dp.noise_multiplier, rounds);
  }
  return accountant.ComposeSampledGaussian(q, task.dp.noise_multiplier, rounds);
}

}  // namespace

absl::StatusOr<double> ProjectedEpsilon(const TaskConfig& task, int64_t rounds) {
  if (task.dp.noise_multiplier <= 0 || rounds < 1) return 0.0;
  privacy::RdpAccountant accountant;
  TACIT_RETURN_IF_ERROR(ComposeRounds(task, rounds, accountant));
  TACIT_ASSIGN_OR_RETURN(privacy::PrivacySpent spent, accountant.Spent(task.dp.delta));
  return spent.epsilon;
}

absl::Status GlobalModel::ComposePrivacy(int cohort_size) {
  if (cohort_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("cohort size must be >= 1, got ", cohort_size));
  }
  if (task_.dp.noise_multiplier <= 0) return absl::OkStatus();
  TACIT_RETURN_IF_ERROR(ComposeRounds(task_, 1, accountant_));
  TACIT_ASSIGN_OR_RETURN(privacy::PrivacySpent spent, accountant_.Spent(task_.dp.delta));
  epsilon_ = spent.epsilon;
  return absl::OkStatus();
}

absl::Status GlobalModel::ApplyRound(const std::vector<float>& mean_update, int cohort_size) {
  if (cohort_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("cohort size must be >= 1, got ", cohort_size));
  }
  TACIT_RETURN_IF_ERROR(optimizer_.Apply(mean_update, absl::MakeSpan(parameters_)));
  ++version_;
  return ComposePrivacy(cohort_size);
}

}  // namespace tacit::coordinator
