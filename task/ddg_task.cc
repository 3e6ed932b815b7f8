#include "task/ddg_task.h"

#include "absl/strings/str_cat.h"
#include "task/ring_bits.h"

namespace tacit {

bool UsesDiscreteGaussian(const TaskConfig& task) {
  return task.dp.noise_multiplier > 0 && task.dp.mechanism == DpMechanism::kDiscreteGaussian;
}

absl::StatusOr<privacy::DdgPlan> DdgPlanOfTask(const TaskConfig& task, int64_t min_survivors,
                                               int64_t model_length) {
  if (!UsesDiscreteGaussian(task)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task '", task.name, "' does not use the distributed discrete Gaussian (mechanism ",
        DpMechanismName(task.dp.mechanism), ", noise multiplier ", task.dp.noise_multiplier, ")"));
  }
  privacy::DdgNoiseRequest request;
  request.noise_multiplier = task.dp.noise_multiplier;
  request.clip = task.dp.clip_norm;
  request.min_clients = min_survivors;
  request.max_clients = std::max<int64_t>(task.SelectedPerRound(), min_survivors);
  request.dim = model_length;
  request.bits = task.secure_agg.bits;
  if (request.bits == kAutoBits) {
    // The narrowest ring that carries this noise well (task/ring_bits.h).
    absl::StatusOr<int> bits = RingBitsOfTask(task, model_length);
    if (!bits.ok()) return bits.status();
    request.bits = *bits;
  }
  absl::StatusOr<privacy::DdgPlan> plan = privacy::PlanDdgForNoise(request);
  if (!plan.ok()) {
    return absl::Status(plan.status().code(),
                        absl::StrCat("task '", task.name, "': the discrete Gaussian plan for ",
                                     model_length, " coordinates and ", min_survivors,
                                     " survivors failed: ", plan.status().message()));
  }
  return plan;
}

}  // namespace tacit
