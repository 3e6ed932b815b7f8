#include "coordinator/service/status_view.h"

namespace tacit::coordinator {

nlohmann::json PrivacyAccountingJson(const DpConfig& dp) {
  const bool random = dp.sampling == DpSampling::kRandomCheckIn;
  return {{"accountant", "rdp"},
          {"sampling", DpSamplingName(dp.sampling)},
          {"q", dp.AccountedSamplingRate()},
          {"noise_multiplier", dp.noise_multiplier},
          {"mechanism", DpMechanismName(dp.mechanism)},
          // The discrete Gaussian is accounted as a mechanism the Gaussian at z
          // dominates order by order: the general subsampling bound, not the
          // subsampled Gaussian's own (privacy/rdp_accountant.h).
          {"subsampling_bound",
           dp.mechanism == DpMechanism::kDiscreteGaussian ? "general" : "sampled_gaussian"},
          {"delta", dp.delta},
          {"why", dp.noise_multiplier <= 0
                      ? "no DP noise: no guarantee, epsilon is not finite (shown as 0)"
                  : random ? "random check-ins: each laptop offers itself on its own coin with "
                             "probability q, at most once per window"
                           : "q = 1: the coordinator seats whoever checks in first, which is no "
                             "random sample, so no amplification by sampling"}};
}

nlohmann::json StatusJson(const CoordinatorStatus& status) {
  nlohmann::json s;
  s["task"] = status.task;
  s["rounds"] = status.rounds;
  s["model_version"] = status.model_version;
  s["epsilon"] = status.epsilon;
  s["accounting"] = PrivacyAccountingJson(status.dp);
  s["server_optimizer"] = status.server_optimizer;
  s["server_lr"] = status.server_lr;
  s["done"] = status.done;
  if (status.open_round) {
    const OpenRoundStatus& r = *status.open_round;
    s["round"] = r.round;
    s["round_id"] = r.round_id;
    s["attempt"] = r.attempt;
    s["phase"] = r.phase;
    s["participants"] = r.participants;
    s["dropped"] = r.dropped;
  } else {
    s["phase"] = status.done ? "done" : "idle";
  }
  s["last_round"] =
      status.last_round ? LastRoundJson(*status.last_round) : nlohmann::json::object();
  s["last_evaluation"] =
      status.last_evaluation ? EvaluationReportJson(*status.last_evaluation) : nlohmann::json();
  return s;
}

}  // namespace tacit::coordinator
