#include "coordinator/round/round_plan.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/dp_noise.h"
#include "common/status_macros.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/parameters.h"
#include "task/ddg_task.h"
#include "task/ring_bits.h"

namespace tacit::coordinator {

std::string RoundPlan::Describe() const {
  std::string line = absl::StrFormat(
      "round %d: %d clients, threshold %d, %s, %d-bit field, clip %.3g, scale 2^%.0f, "
      "headroom %.1f bits, min survivors %d",
      round_id, cohort.size(), threshold,
      neighbors == 0 ? std::string("complete graph") : absl::StrCat(neighbors, " neighbours"), bits,
      clip_range, std::log2(scale), headroom_bits, min_survivors);
  if (ddg) {
    absl::StrAppendFormat(&line,
                          ", discrete Gaussian: %d rotated coordinates, grid %.3g, local "
                          "sigma %.3g, wrap <= %.1e",
                          ddg->mechanism.dim, ddg->mechanism.gamma,
                          std::sqrt(ddg->mechanism.local_variance), ddg->wrap_probability);
  }
  if (compression) {
    absl::StrAppendFormat(&line,
                          ", rotated quantization: %d bits per coordinate on [-%.3g, %.3g], %d "
                          "rotated coordinates",
                          compression->bits_per_coordinate, compression->range, compression->range,
                          compression->encoded_dim);
  }
  return line;
}

secagg::ParameterRequest PlanningRequest(const TaskConfig& task, uint32_t n) {
  secagg::ParameterRequest request;
  request.cohort_size = n;
  request.dropout_rate =
      std::clamp(1.0 - static_cast<double>(task.cohort.min_survivors) / n, 0.0, 0.9);
  request.corruption_rate = 0.1;
  return request;
}

absl::StatusOr<RoundPlan> PlanRound(const TaskConfig& task, uint64_t round_id,
                                    std::vector<uint32_t> cohort, uint64_t model_length) {
  const double max_weight = task.aggregation.max_weight;
  const uint32_t n = static_cast<uint32_t>(cohort.size());
  // The task's minimum is for a full cohort; a smaller cohort (few eligible
  // clients) keeps the same proportion, but never below 2 updates.
  int min_survivors = task.cohort.min_survivors;
  if (n < static_cast<uint32_t>(min_survivors)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only ", n, " clients selected for round ", round_id, " but cohort.min_survivors is ",
        min_survivors, ": wait for more eligible clients or lower cohort.min_survivors"));
  }
  TACIT_ASSIGN_OR_RETURN(secagg::ChosenParameters chosen,
                         secagg::ChooseParameters(PlanningRequest(task, n)));

  RoundPlan plan;
  plan.round_id = round_id;
  plan.cohort = std::move(cohort);
  plan.neighbors = task.secure_agg.neighbors > 0 ? task.secure_agg.neighbors : chosen.neighbors;
  if (plan.neighbors >= n - 1) plan.neighbors = 0;  // a degree that large is the complete graph
  if (plan.neighbors % 2 == 1) ++plan.neighbors;    // the graph construction needs an even k
  const uint32_t holders = plan.neighbors == 0 ? n : plan.neighbors + 1;
  uint32_t threshold = task.secure_agg.threshold > 0 ? task.secure_agg.threshold : chosen.threshold;
  // Clients refuse thresholds that are not above two thirds of their share
  // holders (secagg::ClientConfig::min_threshold_fraction).
  threshold = std::max(threshold, secagg::ActiveSecureThreshold(holders));
  if (plan.neighbors == 0) {
    threshold = std::max<uint32_t>(threshold, std::min<uint32_t>(min_survivors, n));
  }
  if (threshold > holders) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secure_agg.threshold ", threshold, " exceeds the ", holders,
        " share holders per client in round ", round_id, ": lower secure_agg.threshold"));
  }
  plan.threshold = threshold;
  plan.min_survivors = std::max<int>(min_survivors, 2);
  TACIT_ASSIGN_OR_RETURN(int bits, RingBitsOfTask(task, static_cast<int64_t>(model_length)));
  plan.bits = static_cast<uint32_t>(bits);
  plan.clip_range = task.secure_agg.clip_range;
  plan.max_weight = max_weight;
  plan.model_length = model_length;
  plan.evaluation = EvaluationEncodingOf(task, max_weight);
  // Every evaluation coordinate stays within [0, clip_range] (see
  // federated_evaluation.h), so the no-wrap bound below covers them too.
  plan.encoded_model_length = model_length;
  if (UsesDiscreteGaussian(task)) {
    // With the task's survivor promise, as every laptop plans it.
    TACIT_ASSIGN_OR_RETURN(plan.ddg, DdgPlanOfTask(task, task.cohort.min_survivors,
                                                   static_cast<int64_t>(model_length)));
    plan.encoded_model_length = static_cast<uint64_t>(plan.ddg->mechanism.dim);
  }
  if (task.secure_agg.compression.type == CompressionType::kRotatedQuantization) {
    TACIT_ASSIGN_OR_RETURN(plan.compression,
                           RotatedQuantizationPlanOfTask(task, static_cast<int64_t>(model_length)));
    plan.encoded_model_length = plan.compression->encoded_dim;
  }
  plan.vector_length = plan.encoded_model_length + (plan.evaluation ? kEvaluationCoordinates : 0);
  TACIT_ASSIGN_OR_RETURN(plan.scale,
                         secagg::LargestSafeScale(plan.bits, plan.clip_range, max_weight, n));
  secagg::FixedPointParams fixed{plan.bits, plan.clip_range, plan.scale, max_weight};
  TACIT_ASSIGN_OR_RETURN(secagg::NoWrapReport report, secagg::CheckNoWrap(fixed, n));
  plan.headroom_bits = report.headroom_bits;
  if (task.dp.noise_multiplier > 0 && !plan.ddg) {
    TACIT_ASSIGN_OR_RETURN(
        plan.noise_stddev,
        PerClientNoiseStddev(task.dp.noise_multiplier, task.dp.clip_norm, plan.min_survivors));
  }
  return plan;
}

}  // namespace tacit::coordinator
