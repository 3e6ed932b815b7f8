#include "privacy/conditional_rounding.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::privacy {

absl::StatusOr<double> RoundedNormBound(double scaled_norm_bound, double beta, size_t dim) {
  if (!(scaled_norm_bound > 0) || !std::isfinite(scaled_norm_bound)) {
    return absl::InvalidArgumentError(
        absl::StrCat("scaled norm bound c / gamma must be positive, got ", scaled_norm_bound));
  }
  if (!(beta >= 0 && beta < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("beta must be in [0, 1), got ", beta));
  }
  if (dim == 0) return absl::InvalidArgumentError("dimension must be >= 1");
  const double a = scaled_norm_bound, d = static_cast<double>(dim);
  const double always = a + std::sqrt(d);
  if (beta == 0) return always;
  const double likely =
      std::sqrt(a * a + d / 4 + std::sqrt(2 * std::log(1 / beta)) * (a + std::sqrt(d) / 2));
  return std::min(always, likely);
}

absl::StatusOr<std::vector<double>> ClipAndScale(absl::Span<const double> x, double clip,
                                                 double gamma) {
  if (!(clip > 0) || !(gamma > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("clip and gamma must be positive, got ", clip, " and ", gamma));
  }
  double squared = 0;
  for (double v : x) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("update holds a non-finite value");
    squared += v * v;
  }
  const double norm = std::sqrt(squared);
  const double factor = (norm > clip ? clip / norm : 1.0) / gamma;
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * factor;
  return out;
}

absl::StatusOr<RoundedVector> ConditionalRandomizedRound(absl::Span<const double> scaled,
                                                         double norm_bound, RandomDraws& draws,
                                                         int max_attempts) {
  if (!(norm_bound >= 0) || !(norm_bound < 0x1p62)) {
    return absl::InvalidArgumentError(
        absl::StrCat("norm bound must be in [0, 2^62), got ", norm_bound));
  }
  for (double v : scaled) {
    if (!std::isfinite(v) || std::fabs(v) > 0x1p62) {
      return absl::InvalidArgumentError(
          "scaled update holds a value that is not finite or beyond 2^62; clip and scale first");
    }
  }
  // ||z||^2 is an integer, so ||z||^2 <= bound^2 iff it is <= floor(bound^2).
  const absl::uint128 limit = static_cast<absl::uint128>(std::floor(norm_bound * norm_bound));
  RoundedVector result;
  result.values.resize(scaled.size());
  for (result.attempts = 1; result.attempts <= max_attempts; ++result.attempts) {
    absl::uint128 squared = 0;
    bool over = false;
    for (size_t i = 0; i < scaled.size(); ++i) {
      const double floor = std::floor(scaled[i]);
      const double fraction = scaled[i] - floor;  // exact for |v| < 2^52
      TACIT_ASSIGN_OR_RETURN(uint64_t word, draws.Word());
      const bool up = static_cast<double>(word >> 11) * 0x1p-53 < fraction;
      const int64_t z = static_cast<int64_t>(floor) + (up ? 1 : 0);
      result.values[i] = z;
      const absl::uint128 magnitude = z < 0 ? -static_cast<uint64_t>(z) : static_cast<uint64_t>(z);
      squared += magnitude * magnitude;
      if (squared > limit) {
        over = true;
        break;
      }
    }
    if (!over) return result;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("conditional rounding found no rounding within L2 norm ", norm_bound, " in ",
                   max_attempts, " draws: the update was not clipped and scaled for this bound"));
}

}  // namespace tacit::privacy
