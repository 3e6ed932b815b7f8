#include "privacy/ddg_planner.h"

#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::privacy {
namespace {

constexpr int kBisectionSteps = 40;

// The largest per-client variance (integer domain) a plan may ask for: the
// exact sampler's 128-bit arithmetic truncates at 2^63 / (denominator * sigma),
// which must stay above 40 sigma (discrete_gaussian.cc). 2^50 keeps a wide
// margin; at that size the rounding (at most 1/4 variance) is noise-free
// anyway, so a coarser grid costs nothing.
constexpr double kMaxLocalVariance = 1125899906842624.0;  // 2^50

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

// Smallest sigma^2 whose dominating Gaussian is at least as noisy as z.
absl::StatusOr<double> VarianceForNoise(double z, DdgMechanism mechanism) {
  auto meets = [&](double variance) -> absl::StatusOr<bool> {
    mechanism.local_variance = variance;
    TACIT_ASSIGN_OR_RETURN(double dominating, DdgDominatingNoiseMultiplier(mechanism));
    return dominating >= z;
  };
  return LogBisect(1e-6, 1e30, meets);
}

// The finest gamma in [1e-9 c, c] whose wrap probability at the variance
// `variance_for(gamma)` is at most `max_wrap` and whose variance the exact
// sampler takes (<= kMaxLocalVariance); FailedPrecondition when none.
absl::StatusOr<double> FinestSafeGamma(
    const DdgMechanism& base, int64_t max_clients, int bits, double max_wrap,
    const std::function<absl::StatusOr<double>(const DdgMechanism&)>& variance_for) {
  auto wrap_ok = [&](double gamma) -> absl::StatusOr<bool> {
    DdgMechanism m = base;
    m.gamma = gamma;
    TACIT_ASSIGN_OR_RETURN(m.local_variance, variance_for(m));
    if (m.local_variance > kMaxLocalVariance) return false;
    TACIT_ASSIGN_OR_RETURN(double wrap, ModularWrapProbability(m, max_clients, bits));
    return wrap <= max_wrap;
  };
  // A grid coarser than the clip norm carries no signal.
  absl::StatusOr<double> gamma = LogBisect(1e-9 * base.clip, base.clip, wrap_ok);
  if (absl::IsNotFound(gamma.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        bits, " bits cannot hold the sum of ", max_clients, " updates with wrap probability <= ",
        max_wrap, " at any grid step; allow more bits or smaller cohorts"));
  }
  return gamma;
}

}  // namespace

absl::StatusOr<DdgPlan> PlanDdgForNoise(const DdgNoiseRequest& r) {
  if (!(r.noise_multiplier > 0) || !(r.clip > 0) || r.min_clients < 1 ||
      r.max_clients < r.min_clients || r.dim < 1 || r.bits < 2 || r.bits > 62 ||
      !(r.max_wrap_probability > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DDG plan needs z > 0, clip > 0, 1 <= min_clients <= max_clients, dim >= 1, bits in "
        "[2, 62] and a wrap target > 0; got z ",
        r.noise_multiplier, ", clip ", r.clip, ", clients ", r.min_clients, "..", r.max_clients,
        ", dim ", r.dim, ", bits ", r.bits));
  }
  DdgMechanism base;
  base.clip = r.clip;
  base.beta = r.beta;
  base.dim = PaddedDim(r.dim);
  base.min_clients = r.min_clients;
  auto variance_for = [&](const DdgMechanism& m) {
    return VarianceForNoise(r.noise_multiplier, m);
  };
  TACIT_ASSIGN_OR_RETURN(double gamma, FinestSafeGamma(base, r.max_clients, r.bits,
                                                       r.max_wrap_probability, variance_for));
  DdgPlan plan;
  plan.bits = r.bits;
  plan.mechanism = base;
  plan.mechanism.gamma = gamma;
  TACIT_ASSIGN_OR_RETURN(plan.mechanism.local_variance, variance_for(plan.mechanism));
  TACIT_ASSIGN_OR_RETURN(plan.wrap_probability,
                         ModularWrapProbability(plan.mechanism, r.max_clients, r.bits));
  plan.central_noise_multiplier = r.noise_multiplier;
  const double n = static_cast<double>(r.min_clients);
  plan.noise_inflation = plan.mechanism.gamma *
                         std::sqrt(n * (plan.mechanism.local_variance + 0.25)) /
                         (r.noise_multiplier * r.clip);
  return plan;
}

absl::StatusOr<DdgPlan> PlanDdgForBits(const DdgPlanRequest& r, int bits) {
  TACIT_RETURN_IF_ERROR(CheckRequest(r));
  DdgMechanism base;
  base.clip = r.clip;
  base.beta = r.beta;
  base.dim = PaddedDim(r.dim);
  base.min_clients = r.min_clients;
  auto variance_for = [&](const DdgMechanism& m) { return VarianceFor(r, m); };
  TACIT_ASSIGN_OR_RETURN(double gamma, FinestSafeGamma(base, r.max_clients, bits,
                                                       r.max_wrap_probability, variance_for));
  DdgPlan plan;
  plan.bits = bits;
  plan.mechanism = base;
  plan.mechanism.gamma = gamma;
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
