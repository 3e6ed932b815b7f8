#include "coordinator/round/secagg_bounds.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "coordinator/round/round_plan.h"
#include "secure_agg/parameters.h"

namespace tacit::coordinator {
namespace {

// Bounds are compared in whole bits' hundredths: the same parameters give
// the same figures through either path.
constexpr double kSlack = 0.01;

std::string Log2Text(double log2) {
  if (std::isinf(log2) && log2 < 0) return "0 (impossible under the assumptions)";
  return absl::StrFormat("2^%.1f", log2);
}

std::string GraphText(uint32_t neighbors) {
  return neighbors == 0 ? std::string("complete graph") : absl::StrCat(neighbors, " neighbours");
}

// The threshold and degree PlanRound settles on for a full cohort.
absl::StatusOr<RoundPlan> PlanFullCohort(const TaskConfig& task, uint32_t n) {
  std::vector<uint32_t> cohort(n);
  std::iota(cohort.begin(), cohort.end(), 1u);
  return PlanRound(task, /*round_id=*/0, std::move(cohort), /*model_length=*/1);
}

}  // namespace

bool SecAggBoundsReport::OverrideIsWorse() const {
  if (!overridden) return false;
  auto worse = [](double bound, double target, double automatic) {
    return bound > target + kSlack && bound > automatic + kSlack;
  };
  return worse(log2_privacy_failure, privacy_target, auto_log2_privacy_failure) ||
         worse(log2_correctness_failure, correctness_target, auto_log2_correctness_failure);
}

std::string SecAggBoundsReport::Describe() const {
  std::string out = absl::StrFormat(
      "secure aggregation for a cohort of %d (assumed dropout %.0f%%, corruption %.0f%%):\n"
      "  %s: threshold %d, %s: privacy failure %s (target 2^%.0f), round failure %s (target "
      "2^%.0f)\n",
      cohort, 100 * dropout_rate, 100 * corruption_rate, overridden ? "overridden" : "automatic",
      threshold, GraphText(neighbors), Log2Text(log2_privacy_failure), privacy_target,
      Log2Text(log2_correctness_failure), correctness_target);
  absl::StrAppendFormat(&out,
                        "  a round needs %d of its %d clients in the sum (cohort.min_survivors): "
                        "it tolerates up to %d dropouts\n",
                        min_survivors, cohort, max_dropouts);
  if (overridden) {
    absl::StrAppendFormat(&out,
                          "  automatic choice: threshold %d, %s: privacy failure %s, round "
                          "failure %s\n",
                          auto_threshold, GraphText(auto_neighbors),
                          Log2Text(auto_log2_privacy_failure),
                          Log2Text(auto_log2_correctness_failure));
  }
  if (MissesPrivacyTarget()) {
    absl::StrAppend(&out,
                    "  WARNING: the privacy bound misses its target: colluding clients "
                    "and the coordinator may learn a client's update\n");
  }
  if (MissesCorrectnessTarget()) {
    absl::StrAppend(&out,
                    "  WARNING: the round failure bound misses its target: rounds may be "
                    "abandoned for want of surviving share holders\n");
  }
  return out;
}

absl::StatusOr<SecAggBoundsReport> EvaluateSecAggBounds(const TaskConfig& task) {
  SecAggBoundsReport r;
  r.cohort = static_cast<uint32_t>(task.SelectedPerRound());
  const secagg::ParameterRequest request = PlanningRequest(task, r.cohort);
  r.dropout_rate = request.dropout_rate;
  r.corruption_rate = request.corruption_rate;
  r.privacy_target = -request.security_bits;
  r.correctness_target = -request.correctness_bits;
  r.overridden = task.secure_agg.threshold > 0 || task.secure_agg.neighbors > 0;
  r.min_survivors = static_cast<uint32_t>(std::max(task.cohort.min_survivors, 0));
  r.max_dropouts = r.cohort > r.min_survivors ? r.cohort - r.min_survivors : 0;

  // Selection closes at its deadline with as few as min_survivors seated
  // (round_attempt.cc); a plan that fails then would keep them waiting.
  if (absl::StatusOr<RoundPlan> smallest = PlanFullCohort(task, r.min_survivors); !smallest.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cohort.min_survivors ", r.min_survivors, " (cohort.size ", task.cohort.size,
        "): a round whose selection closes with ", r.min_survivors, " clients could not run (",
        smallest.status().message(),
        ") and its clients would wait forever; raise cohort.min_survivors (and cohort.size "
        "with it) until a round of cohort.min_survivors clients can run"));
  }
  TACIT_ASSIGN_OR_RETURN(RoundPlan plan, PlanFullCohort(task, r.cohort));
  TACIT_ASSIGN_OR_RETURN(secagg::ChosenParameters used,
                         secagg::EvaluateParameters(request, plan.threshold, plan.neighbors));
  r.threshold = plan.threshold;
  r.neighbors = plan.neighbors;
  r.log2_privacy_failure = used.log2_privacy_failure;
  r.log2_correctness_failure = used.log2_correctness_failure;

  TaskConfig automatic = task;
  automatic.secure_agg.threshold = 0;
  automatic.secure_agg.neighbors = 0;
  TACIT_ASSIGN_OR_RETURN(RoundPlan auto_plan, PlanFullCohort(automatic, r.cohort));
  TACIT_ASSIGN_OR_RETURN(
      secagg::ChosenParameters chosen,
      secagg::EvaluateParameters(request, auto_plan.threshold, auto_plan.neighbors));
  r.auto_threshold = auto_plan.threshold;
  r.auto_neighbors = auto_plan.neighbors;
  r.auto_log2_privacy_failure = chosen.log2_privacy_failure;
  r.auto_log2_correctness_failure = chosen.log2_correctness_failure;
  return r;
}

absl::Status RefuseWeakOverrides(const SecAggBoundsReport& r) {
  if (!r.OverrideIsWorse()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "secure_agg.threshold %d with %s gives a privacy failure bound of %s and a round failure "
      "bound of %s for a cohort of %d, worse than the targets (2^%.0f, 2^%.0f) and than the "
      "automatic choice (threshold %d, %s: %s, %s); remove secure_agg.threshold and "
      "secure_agg.neighbors to use the automatic choice, or accept the weaker bounds with "
      "`check-config --force` / `serve --force-weak-secure-agg`",
      r.threshold, GraphText(r.neighbors), Log2Text(r.log2_privacy_failure),
      Log2Text(r.log2_correctness_failure), r.cohort, r.privacy_target, r.correctness_target,
      r.auto_threshold, GraphText(r.auto_neighbors), Log2Text(r.auto_log2_privacy_failure),
      Log2Text(r.auto_log2_correctness_failure)));
}

}  // namespace tacit::coordinator
