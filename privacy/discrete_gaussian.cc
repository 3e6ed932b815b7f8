#include "privacy/discrete_gaussian.h"

#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::privacy {
namespace {

// floor(sqrt(x)) exactly.
uint64_t IntegerSqrt(uint64_t x) {
  uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<double>(x)));
  while (r > 0 && absl::uint128(r) * r > x) --r;
  while (absl::uint128(r + 1) * (r + 1) <= x) ++r;
  return r;
}

// a * b, or nullopt-like false when it does not fit in 128 bits.
bool MulFits(absl::uint128 a, absl::uint128 b, absl::uint128* out) {
  if (a != 0 && b > absl::Uint128Max() / a) return false;
  *out = a * b;
  return true;
}

}  // namespace

absl::StatusOr<Rational> Rational::FromDouble(double value) {
  if (!std::isfinite(value) || value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sigma^2 must be a finite positive number, got ", value));
  }
  int exponent = 0;
  // value = mantissa * 2^exponent with mantissa in [0.5, 1): scale the
  // mantissa to a 53-bit integer.
  const double mantissa = std::frexp(value, &exponent);
  uint64_t m = static_cast<uint64_t>(std::ldexp(mantissa, 53));
  exponent -= 53;
  while (m % 2 == 0 && exponent < 0) {
    m /= 2;
    ++exponent;
  }
  if (exponent >= 0) {
    if (exponent > 63 || m > (~uint64_t{0} >> exponent)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sigma^2 = ", value, " is too large for the exact sampler (max 2^64)"));
    }
    return Rational{m << exponent, 1};
  }
  if (-exponent > 63) {
    return absl::InvalidArgumentError(
        absl::StrCat("sigma^2 = ", value, " needs a denominator above 2^63; scale the problem up"));
  }
  return Rational{m, uint64_t{1} << -exponent};
}

Rational Rational::Reduced() const {
  const uint64_t g = std::gcd(numerator, denominator);
  return g == 0 ? *this : Rational{numerator / g, denominator / g};
}

absl::StatusOr<bool> BernoulliExpMinus(absl::uint128 numerator, absl::uint128 denominator,
                                       RandomDraws& draws) {
  if (denominator == 0) return absl::InvalidArgumentError("BernoulliExpMinus: denominator 0");
  if (numerator > denominator) {
    // exp(-gamma) = exp(-1)^floor(gamma) * exp(-(gamma - floor(gamma))): a
    // product of independent coins, stopping at the first failure.
    const absl::uint128 whole = numerator / denominator;
    for (absl::uint128 i = 0; i < whole; ++i) {
      TACIT_ASSIGN_OR_RETURN(bool keep, BernoulliExpMinus(1, 1, draws));
      if (!keep) return false;
    }
    return BernoulliExpMinus(numerator % denominator, denominator, draws);
  }
  // gamma in [0, 1]: draw A_k ~ Bernoulli(gamma / k) for k = 1, 2, ... until
  // the first A_k = 0; P[that k is odd] = exp(-gamma). Bernoulli(gamma / k) is
  // Bernoulli(gamma) AND Bernoulli(1 / k), which keeps every denominator
  // within 128 bits.
  uint64_t k = 1;
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool a, draws.Bernoulli(numerator, denominator));
    if (a && k > 1) {
      TACIT_ASSIGN_OR_RETURN(a, draws.Bernoulli(1, k));
    }
    if (!a) return k % 2 == 1;
    ++k;
  }
}

absl::StatusOr<int64_t> DiscreteLaplace(uint64_t t, RandomDraws& draws) {
  if (t == 0) return absl::InvalidArgumentError("DiscreteLaplace needs scale t >= 1");
  while (true) {
    TACIT_ASSIGN_OR_RETURN(absl::uint128 u128, draws.UniformBelow(t));
    const uint64_t u = absl::Uint128Low64(u128);
    TACIT_ASSIGN_OR_RETURN(bool d, BernoulliExpMinus(u, t, draws));
    if (!d) continue;
    uint64_t v = 0;
    while (true) {
      TACIT_ASSIGN_OR_RETURN(bool a, BernoulliExpMinus(1, 1, draws));
      if (!a) break;
      ++v;
    }
    const absl::uint128 x = absl::uint128(u) + absl::uint128(t) * v;
    if (x > static_cast<uint64_t>(INT64_MAX)) continue;  // probability < exp(-2^63 / t)
    TACIT_ASSIGN_OR_RETURN(bool negative, draws.Bernoulli(1, 2));
    if (negative && x == 0) continue;
    const int64_t magnitude = static_cast<int64_t>(absl::Uint128Low64(x));
    return negative ? -magnitude : magnitude;
  }
}

absl::StatusOr<DiscreteGaussianSampler> DiscreteGaussianSampler::Create(Rational sigma_squared) {
  if (sigma_squared.numerator == 0 || sigma_squared.denominator == 0) {
    return absl::InvalidArgumentError("sigma^2 must be a positive rational");
  }
  const Rational s2 = sigma_squared.Reduced();
  const uint64_t p = s2.numerator, q = s2.denominator;
  const uint64_t t = IntegerSqrt(p / q) + 1;
  // Bounds for exact arithmetic: |Y| q t < 2^63 and p < 2^63 keep
  // (|Y| q t - p)^2 below 2^126; 2 p q t^2 must fit in 128 bits.
  absl::uint128 qt, pq, pqt, pqtt;
  const absl::uint128 limit = absl::uint128(1) << 63;
  if (p >= limit || !MulFits(q, t, &qt) || qt >= limit || !MulFits(p, q, &pq) ||
      !MulFits(pq, t, &pqt) || !MulFits(pqt, t, &pqtt) || !MulFits(pqtt, 2, &pqtt)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sigma^2 = ", s2.numerator, "/", s2.denominator,
        " has terms too large for the exact 128-bit sampler; use a rational with a smaller "
        "denominator"));
  }
  const uint64_t truncation = absl::Uint128Low64((limit - 1) / qt);
  if (absl::uint128(truncation) < absl::uint128(40) * t) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sigma^2 = ", s2.numerator, "/", s2.denominator,
        ": its denominator leaves the sampler's truncation below 40 sigma; use a rational "
        "with a smaller denominator"));
  }
  return DiscreteGaussianSampler(s2, t, truncation);
}

absl::StatusOr<int64_t> DiscreteGaussianSampler::Sample(RandomDraws& draws) const {
  const uint64_t p = sigma_squared_.numerator, q = sigma_squared_.denominator;
  const absl::uint128 denominator = absl::uint128(2) * p * q * t_ * t_;
  while (true) {
    TACIT_ASSIGN_OR_RETURN(int64_t y, DiscreteLaplace(t_, draws));
    const uint64_t magnitude = y < 0 ? -static_cast<uint64_t>(y) : static_cast<uint64_t>(y);
    if (magnitude > truncation_) continue;
    // gamma = (|y| - sigma^2 / t)^2 / (2 sigma^2) = (|y| q t - p)^2 / (2 p q t^2).
    const absl::uint128 scaled = absl::uint128(magnitude) * q * t_;
    const absl::uint128 diff = scaled >= p ? scaled - p : absl::uint128(p) - scaled;
    TACIT_ASSIGN_OR_RETURN(bool accept, BernoulliExpMinus(diff * diff, denominator, draws));
    if (accept) return y;
  }
}

absl::Status DiscreteGaussianSampler::SampleInto(absl::Span<int64_t> out,
                                                 RandomDraws& draws) const {
  for (int64_t& value : out) {
    TACIT_ASSIGN_OR_RETURN(value, Sample(draws));
  }
  return absl::OkStatus();
}

}  // namespace tacit::privacy
