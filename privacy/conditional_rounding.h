#pragma once

// Scaling and conditional randomized rounding of the distributed discrete
// Gaussian (Kairouz, Liu, Steinke 2021, arXiv 2102.06387, Sec. 4.1, Thm. 1 /
// Prop. 22): a clipped update x (||x||_2 <= c) is scaled by 1/gamma, then each
// coordinate is rounded to floor(v) + Bernoulli(v - floor(v)) (unbiased), and
// the whole rounding is redrawn until the integer vector's L2 norm is at most
//   Delta_2 = min( A + sqrt(d),
//                  sqrt(A^2 + d/4 + sqrt(2 log(1/beta)) (A + sqrt(d)/2)) ),
// A = c / gamma. The first bound always holds; the second holds for an
// unconditional rounding with probability >= 1 - beta, so the expected number
// of draws is at most 1 / (1 - beta). Delta_2 is the sensitivity the
// accounting uses (distributed_discrete_gaussian.h); it is enforced here, on
// the laptop, exactly (integer sum of squares against floor(Delta_2^2)).
//
// The rounding coin for a fractional part f compares f with a 53-bit uniform:
// its bias is below 2^-53 per coordinate. That only moves the expectation of
// the rounding; privacy rests on the norm check, which is exact.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {

// Delta_2 above for a scaled norm bound A = c / gamma > 0, beta in [0, 1)
// (beta = 0: the first bound alone) and dimension d >= 1.
absl::StatusOr<double> RoundedNormBound(double scaled_norm_bound, double beta, size_t dim);

// x clipped to L2 norm `clip` (scaled down when longer), then divided by gamma.
absl::StatusOr<std::vector<double>> ClipAndScale(absl::Span<const double> x, double clip,
                                                 double gamma);

struct RoundedVector {
  std::vector<int64_t> values;
  int attempts = 0;  // roundings drawn, the accepted one included
};

// Rounds `scaled` stochastically until ||result||_2 <= norm_bound.
// FailedPrecondition after `max_attempts` rejected draws (the input was longer
// than the bound it was computed for).
absl::StatusOr<RoundedVector> ConditionalRandomizedRound(absl::Span<const double> scaled,
                                                         double norm_bound, RandomDraws& draws,
                                                         int max_attempts = 1000);

}  // namespace tacit::privacy
