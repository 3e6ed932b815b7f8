#include "privacy/ddg_encoding.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/conditional_rounding.h"
#include "privacy/discrete_gaussian.h"
#include "privacy/hadamard_rotation.h"

namespace tacit::privacy {
namespace {

absl::Status CheckPlan(const DdgPlan& plan, size_t dim) {
  if (plan.bits < 2 || plan.bits > 62) {
    return absl::InvalidArgumentError(
        absl::StrCat("plan bits must be in [2, 62], got ", plan.bits));
  }
  size_t padded = 1;
  while (padded < dim) padded *= 2;
  if (dim == 0 || static_cast<int64_t>(padded) != plan.mechanism.dim) {
    return absl::InvalidArgumentError(absl::StrCat("update dimension ", dim, " pads to ", padded,
                                                   " but the plan is for ", plan.mechanism.dim));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<uint64_t>> EncodeDdgUpdate(absl::Span<const double> update,
                                                      const DdgPlan& plan, uint64_t rotation_seed,
                                                      RandomDraws& draws) {
  TACIT_RETURN_IF_ERROR(CheckPlan(plan, update.size()));
  const DdgMechanism& m = plan.mechanism;
  TACIT_ASSIGN_OR_RETURN(HadamardRotation rotation,
                         HadamardRotation::Create(update.size(), rotation_seed));
  // Clip before rotating (the rotation keeps the norm), scale after.
  TACIT_ASSIGN_OR_RETURN(std::vector<double> clipped, ClipAndScale(update, m.clip, 1.0));
  TACIT_ASSIGN_OR_RETURN(std::vector<double> rotated, rotation.Rotate(clipped));
  for (double& v : rotated) v /= m.gamma;
  TACIT_ASSIGN_OR_RETURN(double bound, DdgL2Sensitivity(m));
  TACIT_ASSIGN_OR_RETURN(RoundedVector rounded, ConditionalRandomizedRound(rotated, bound, draws));
  TACIT_ASSIGN_OR_RETURN(Rational variance, Rational::FromDouble(m.local_variance));
  TACIT_ASSIGN_OR_RETURN(DiscreteGaussianSampler sampler,
                         DiscreteGaussianSampler::Create(variance));
  std::vector<int64_t> noise(rounded.values.size());
  TACIT_RETURN_IF_ERROR(sampler.SampleInto(absl::MakeSpan(noise), draws));
  const uint64_t mask = (uint64_t{1} << plan.bits) - 1;
  std::vector<uint64_t> out(noise.size());
  for (size_t i = 0; i < out.size(); ++i) {
    // Two's complement wraps exactly modulo 2^64, hence modulo 2^bits.
    out[i] = (static_cast<uint64_t>(rounded.values[i]) + static_cast<uint64_t>(noise[i])) & mask;
  }
  return out;
}

absl::StatusOr<std::vector<double>> DecodeDdgSum(absl::Span<const uint64_t> modular_sum,
                                                 const DdgPlan& plan, uint64_t rotation_seed,
                                                 size_t dim) {
  TACIT_RETURN_IF_ERROR(CheckPlan(plan, dim));
  if (modular_sum.size() != static_cast<size_t>(plan.mechanism.dim)) {
    return absl::InvalidArgumentError(absl::StrCat("modular sum has ", modular_sum.size(),
                                                   " values, the plan ", plan.mechanism.dim));
  }
  const uint64_t modulus = uint64_t{1} << plan.bits, mask = modulus - 1;
  const uint64_t half = modulus / 2;
  std::vector<double> lifted(modular_sum.size());
  for (size_t i = 0; i < lifted.size(); ++i) {
    const uint64_t v = modular_sum[i] & mask;
    const int64_t centred =
        v >= half ? -static_cast<int64_t>(modulus - v) : static_cast<int64_t>(v);
    lifted[i] = static_cast<double>(centred) * plan.mechanism.gamma;
  }
  TACIT_ASSIGN_OR_RETURN(HadamardRotation rotation, HadamardRotation::Create(dim, rotation_seed));
  return rotation.Inverse(lifted);
}

}  // namespace tacit::privacy
