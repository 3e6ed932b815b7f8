#pragma once

// The exact discrete Gaussian N_Z(0, sigma^2): P[X = x] proportional to
// exp(-x^2 / (2 sigma^2)) over the integers. Canonne, Kamath, Steinke 2020,
// "The Discrete Gaussian for Differential Privacy" (arXiv 2004.00010):
//   Algorithm 1  Bernoulli(exp(-gamma)) for a rational gamma,
//   Algorithm 2  the discrete Laplace, by rejection,
//   Algorithm 3  the discrete Gaussian, by rejection from the discrete Laplace
//                with t = floor(sigma) + 1.
// Every step is integer or rational arithmetic (absl::uint128) on uniformly
// random bits from a RandomDraws: no floating point touches a sample, so the
// sampler has none of the least-significant-bit leaks of floating-point
// Gaussians (Mironov 2012).
//
// sigma^2 is a Rational. A double is converted exactly (every finite double is
// m / 2^k); the planner hands out doubles, so Rational::FromDouble is the usual
// entry point and what is sampled is exactly the double's value.
//
// The one departure from the paper, forced by 128-bit arithmetic: discrete
// Laplace proposals with |Y| > truncation() are rejected, so the output is
// N_Z(0, sigma^2) conditioned on |X| <= truncation(). Create() refuses sigma^2
// whose truncation would be below 40 sigma; conditioning on |X| <= 40 sigma
// changes no probability by more than a factor 1 + 2e-347 (tail mass below
// 2 exp(-800)).

#include <cstdint>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {

// numerator / denominator, both >= 1 after Reduce.
struct Rational {
  uint64_t numerator = 0;
  uint64_t denominator = 1;

  // The exact value of a finite positive double, reduced to lowest terms;
  // InvalidArgument when it does not fit in 64-bit terms: values of 2^64 and
  // above, and values whose dyadic denominator exceeds 2^63 (a full 53-bit
  // mantissa below 2^-10; noise variances in the scaled integer domain are
  // far above that).
  static absl::StatusOr<Rational> FromDouble(double value);
  Rational Reduced() const;
  double ToDouble() const { return static_cast<double>(numerator) / denominator; }
};

// Algorithm 1: true with probability exp(-numerator / denominator).
absl::StatusOr<bool> BernoulliExpMinus(absl::uint128 numerator, absl::uint128 denominator,
                                       RandomDraws& draws);

// Algorithm 2 with s = 1: P[Y = y] proportional to exp(-|y| / t), t >= 1.
absl::StatusOr<int64_t> DiscreteLaplace(uint64_t t, RandomDraws& draws);

class DiscreteGaussianSampler {
 public:
  // InvalidArgument when sigma^2 <= 0 or its terms are too large for exact
  // 128-bit arithmetic (see the header comment).
  static absl::StatusOr<DiscreteGaussianSampler> Create(Rational sigma_squared);

  // One sample (Algorithm 3).
  absl::StatusOr<int64_t> Sample(RandomDraws& draws) const;
  // out[i] = an independent sample, for a whole update.
  absl::Status SampleInto(absl::Span<int64_t> out, RandomDraws& draws) const;

  Rational sigma_squared() const { return sigma_squared_; }
  // The Laplace scale t = floor(sigma) + 1.
  uint64_t laplace_scale() const { return t_; }
  // Largest |X| the sampler returns.
  uint64_t truncation() const { return truncation_; }

 private:
  DiscreteGaussianSampler(Rational sigma_squared, uint64_t t, uint64_t truncation)
      : sigma_squared_(sigma_squared), t_(t), truncation_(truncation) {}
  Rational sigma_squared_;
  uint64_t t_;
  uint64_t truncation_;
};

}  // namespace tacit::privacy
