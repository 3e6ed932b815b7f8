#include "privacy/ddg_planner.h"

#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::privacy {
namespace {

constexpr int kBisectionSteps = 40;

absl::Status CheckRequest(const DdgPlanRequest& r) {
  if (!(r.epsilon > 0) || !(r.delta > 0 && r.delta < 1) || r.rounds < 1 ||
      !(r.sampling_rate > 0 && r.sampling_rate <= 1)) {
    return absl::InvalidArgumentError(
        "DDG plan needs epsilon > 0, delta in (0, 1), rounds >= 1, q in (0, 1]");
  }
  if (r.min_clients < 1 || r.max_clients < r.min_clients || r.dim < 1 || !(r.clip > 0)) {
    return absl::InvalidArgumentError(
        "DDG plan needs 1 <= min_clients <= max_clients, dim >= 1 and clip > 0");
  }
  if (r.min_bits < 2 || r.max_bits > 62 || r.min_bits > r.max_bits) {
    return absl::InvalidArgumentError("DDG plan needs 2 <= min_bits <= max_bits <= 62");
  }
  return absl::OkStatus();
}

int64_t PaddedDim(int64_t dim) {
  int64_t padded = 1;
  while (padded < dim) padded *= 2;
  return padded;
}

// Smallest x in [lo, hi] (log scale) with ok(x), assuming ok is monotone
// (false below some point, true above); NotFound when ok(hi) is false.
absl::StatusOr<double> LogBisect(double lo, double hi,
                                 const std::function<absl::StatusOr<bool>(double)>& ok) {
  TACIT_ASSIGN_OR_RETURN(bool top, ok(hi));
  if (!top) return absl::NotFoundError("no value in range satisfies the condition");
  for (int i = 0; i < kBisectionSteps; ++i) {
    const double mid = std::sqrt(lo * hi);
    TACIT_ASSIGN_OR_RETURN(bool good, ok(mid));
    (good ? hi : lo) = mid;
  }
  return hi;
}

// Smallest sigma^2 meeting the epsilon target for `mechanism` (gamma set).
absl::StatusOr<double> VarianceFor(const DdgPlanRequest& r, DdgMechanism mechanism) {
  auto meets = [&](double variance) -> absl::StatusOr<bool> {
    mechanism.local_variance = variance;
    TACIT_ASSIGN_OR_RETURN(PrivacySpent spent, DdgEpsilon(mechanism, r.sampling_rate, r.rounds,
                                                          r.delta, r.subsampling));
    return spent.epsilon <= r.epsilon;
  };
  return LogBisect(1e-6, 1e30, meets);
}

// Continuous central Gaussian reference: smallest z with epsilon <= target.
absl::StatusOr<double> CentralNoiseMultiplier(const DdgPlanRequest& r) {
  auto meets = [&](double z) -> absl::StatusOr<bool> {
    RdpAccountant accountant;
    TACIT_RETURN_IF_ERROR(accountant.ComposeSampledGaussian(r.sampling_rate, z, r.rounds));
    TACIT_ASSIGN_OR_RETURN(PrivacySpent spent, accountant.Spent(r.delta));
    return spent.epsilon <= r.epsilon;
  };
  return LogBisect(1e-3, 1e6, meets);
}

}  // namespace

absl::StatusOr<DdgPlan> PlanDdgForBits(const DdgPlanRequest& r, int bits) {
  TACIT_RETURN_IF_ERROR(CheckRequest(r));
  DdgMechanism base;
  base.clip = r.clip;
  base.beta = r.beta;
  base.dim = PaddedDim(r.dim);
  base.min_clients = r.min_clients;
  auto wrap_ok = [&](double gamma) -> absl::StatusOr<bool> {
    DdgMechanism m = base;
    m.gamma = gamma;
    TACIT_ASSIGN_OR_RETURN(m.local_variance, VarianceFor(r, m));
    TACIT_ASSIGN_OR_RETURN(double wrap, ModularWrapProbability(m, r.max_clients, bits));
    return wrap <= r.max_wrap_probability;
  };
  // gamma from 1e-9 c to c: a grid coarser than the clip norm carries no signal.
  absl::StatusOr<double> gamma = LogBisect(1e-9 * r.clip, r.clip, wrap_ok);
  if (absl::IsNotFound(gamma.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        bits, " bits cannot hold the sum of ", r.max_clients, " updates with wrap probability <= ",
        r.max_wrap_probability, " at any grid step; allow more bits or smaller cohorts"));
  }
  TACIT_RETURN_IF_ERROR(gamma.status());
  DdgPlan plan;
  plan.bits = bits;
  plan.mechanism = base;
  plan.mechanism.gamma = *gamma;
  TACIT_ASSIGN_OR_RETURN(plan.mechanism.local_variance, VarianceFor(r, plan.mechanism));
  TACIT_ASSIGN_OR_RETURN(PrivacySpent spent, DdgEpsilon(plan.mechanism, r.sampling_rate, r.rounds,
                                                        r.delta, r.subsampling));
  plan.epsilon = spent.epsilon;
  TACIT_ASSIGN_OR_RETURN(plan.wrap_probability,
                         ModularWrapProbability(plan.mechanism, r.max_clients, bits));
  TACIT_ASSIGN_OR_RETURN(plan.central_noise_multiplier, CentralNoiseMultiplier(r));
  const double n = static_cast<double>(r.min_clients);
  const double ddg_error =
      plan.mechanism.gamma * std::sqrt(n * (plan.mechanism.local_variance + 0.25));
  plan.noise_inflation = ddg_error / (plan.central_noise_multiplier * r.clip);
  return plan;
}

absl::StatusOr<DdgPlan> PlanDdg(const DdgPlanRequest& r) {
  TACIT_RETURN_IF_ERROR(CheckRequest(r));
  absl::Status last = absl::FailedPreconditionError("no bit width tried");
  for (int bits = r.min_bits; bits <= r.max_bits; ++bits) {
    absl::StatusOr<DdgPlan> plan = PlanDdgForBits(r, bits);
    if (!plan.ok()) {
      if (!absl::IsFailedPrecondition(plan.status())) return plan.status();
      last = plan.status();
      continue;
    }
    if (plan->noise_inflation <= r.max_noise_inflation || bits == r.max_bits) return plan;
  }
  return last;
}

}  // namespace tacit::privacy
