#include "privacy/discrete_gaussian.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {
namespace {

SeededBitSourceForSimulation Source(uint64_t seed) {
  return *SeededBitSourceForSimulation::FromSeed(seed, "discrete_gaussian_test");
}

// Exact pmf of N_Z(0, sigma^2) on [-bound, bound] (mass beyond is < 1e-300).
std::map<int64_t, double> DiscreteGaussianPmf(double sigma2) {
  const int64_t bound = static_cast<int64_t>(40 * std::sqrt(sigma2)) + 40;
  std::map<int64_t, double> pmf;
  double total = 0;
  for (int64_t x = -bound; x <= bound; ++x) {
    pmf[x] = std::exp(-static_cast<double>(x) * x / (2 * sigma2));
    total += pmf[x];
  }
  for (auto& [x, p] : pmf) p /= total;
  return pmf;
}

// Pearson chi-square of `counts` against `pmf`, cells with expected count
// below 20 pooled into one; returns (statistic, degrees of freedom).
std::pair<double, int> ChiSquare(const std::map<int64_t, int64_t>& counts,
                                 const std::map<int64_t, double>& pmf, int64_t n) {
  double stat = 0, pooled_expected = 0, pooled_observed = 0;
  int cells = 0;
  for (const auto& [x, p] : pmf) {
    const double expected = p * n;
    auto it = counts.find(x);
    const double observed = it == counts.end() ? 0 : it->second;
    if (expected < 20) {
      pooled_expected += expected;
      pooled_observed += observed;
      continue;
    }
    stat += (observed - expected) * (observed - expected) / expected;
    ++cells;
  }
  // Samples outside the pmf's support land in the pooled cell too.
  int64_t inside = 0;
  for (const auto& [x, c] : counts) inside += pmf.count(x) ? c : 0;
  pooled_observed += n - inside;
  if (pooled_expected > 0) {
    stat +=
        (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++cells;
  }
  return {stat, cells - 1};
}

// 6 standard deviations above the chi-square mean: a correct sampler fails
// this with probability ~1e-8 per seed; the seeds are fixed.
double ChiSquareLimit(int dof) { return dof + 6 * std::sqrt(2.0 * dof); }

TEST(RationalTest, FromDoubleIsExact) {
  auto tenth = Rational::FromDouble(0.1);
  ASSERT_TRUE(tenth.ok());
  EXPECT_EQ(tenth->numerator, 3602879701896397u);
  EXPECT_EQ(tenth->denominator, uint64_t{1} << 55);
  auto big = Rational::FromDouble(12288.0);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->numerator, 12288u);
  EXPECT_EQ(big->denominator, 1u);
  // Property: for random doubles across magnitudes, numerator / denominator
  // is the double itself (both are exact in long double for these ranges).
  auto source = Source(7);
  RandomDraws draws(source);
  for (int i = 0; i < 2000; ++i) {
    const double mantissa = 1.0 + static_cast<double>(*draws.Word() >> 11) / (1ull << 53);
    const int exponent = static_cast<int>(*draws.UniformBelow(60)) - 11;
    const double value = std::ldexp(mantissa, exponent);
    auto r = Rational::FromDouble(value);
    ASSERT_TRUE(r.ok()) << value;
    EXPECT_EQ(std::ldexp(static_cast<double>(r->numerator), 0) / r->denominator, value);
    EXPECT_EQ(r->Reduced().numerator, r->numerator);  // already lowest terms
  }
  EXPECT_FALSE(Rational::FromDouble(0.0).ok());
  EXPECT_FALSE(Rational::FromDouble(-1.0).ok());
  EXPECT_FALSE(Rational::FromDouble(std::nan("")).ok());
  EXPECT_FALSE(Rational::FromDouble(1e-30).ok());
}

TEST(RandomDrawsTest, UniformBelowIsUniform) {
  auto source = Source(1);
  RandomDraws draws(source);
  for (uint64_t n : {1u, 2u, 3u, 7u, 10u, 37u}) {
    std::map<int64_t, int64_t> counts;
    std::map<int64_t, double> pmf;
    const int64_t samples = 20000;
    for (int64_t i = 0; i < samples; ++i) {
      auto u = draws.UniformBelow(n);
      ASSERT_TRUE(u.ok());
      ASSERT_LT(*u, n);
      ++counts[static_cast<int64_t>(absl::Uint128Low64(*u))];
    }
    for (uint64_t k = 0; k < n; ++k) pmf[static_cast<int64_t>(k)] = 1.0 / n;
    auto [stat, dof] = ChiSquare(counts, pmf, samples);
    if (dof > 0) {
      EXPECT_LT(stat, ChiSquareLimit(dof)) << "n = " << n;
    }
  }
  // 128-bit ranges draw two words and stay below n.
  const absl::uint128 huge = absl::MakeUint128(3, 5);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(*draws.UniformBelow(huge), huge);
  EXPECT_FALSE(draws.UniformBelow(0).ok());
  EXPECT_FALSE(draws.Bernoulli(3, 2).ok());
}

TEST(DiscreteGaussianTest, BernoulliExpMinusMatchesExp) {
  auto source = Source(2);
  RandomDraws draws(source);
  const std::vector<std::pair<uint64_t, uint64_t>> gammas = {{0, 1}, {1, 3}, {1, 1},
                                                             {5, 2}, {7, 1}, {123456789, 98765432}};
  const int n = 100000;
  for (auto [num, den] : gammas) {
    int hits = 0;
    for (int i = 0; i < n; ++i) hits += *BernoulliExpMinus(num, den, draws);
    const double p = std::exp(-static_cast<double>(num) / den);
    const double sd = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(static_cast<double>(hits) / n, p, 5 * sd + 1e-12) << num << "/" << den;
  }
  // 128-bit gamma terms (the discrete Gaussian's acceptance test).
  const absl::uint128 big = absl::uint128(1) << 120;
  int hits = 0;
  for (int i = 0; i < n; ++i) hits += *BernoulliExpMinus(big / 2, big, draws);
  EXPECT_NEAR(static_cast<double>(hits) / n, std::exp(-0.5), 5 * std::sqrt(0.25 / n));
}

TEST(DiscreteGaussianTest, DiscreteLaplaceMatchesExactPmf) {
  auto source = Source(3);
  RandomDraws draws(source);
  for (uint64_t t : {1u, 3u, 20u}) {
    std::map<int64_t, double> pmf;
    const double r = std::exp(-1.0 / t);
    for (int64_t x = -60 * static_cast<int64_t>(t); x <= 60 * static_cast<int64_t>(t); ++x) {
      pmf[x] = (1 - r) / (1 + r) * std::pow(r, std::abs(static_cast<double>(x)));
    }
    std::map<int64_t, int64_t> counts;
    const int64_t n = 100000;
    for (int64_t i = 0; i < n; ++i) ++counts[*DiscreteLaplace(t, draws)];
    auto [stat, dof] = ChiSquare(counts, pmf, n);
    EXPECT_LT(stat, ChiSquareLimit(dof)) << "t = " << t << " dof " << dof;
  }
}

// Moments, tails and the whole pmf for several sigma^2, including a double
// that is not an integer (sampled exactly as its dyadic rational).
TEST(DiscreteGaussianTest, MatchesExactPmfMomentsAndTails) {
  const std::vector<double> variances = {0.3, 1.0, 2.0, 10.24, 1234.5678};
  uint64_t seed = 10;
  for (double sigma2 : variances) {
    auto sampler = DiscreteGaussianSampler::Create(*Rational::FromDouble(sigma2));
    ASSERT_TRUE(sampler.ok()) << sampler.status();
    auto source = Source(seed++);
    RandomDraws draws(source);
    const int64_t n = 100000;
    std::vector<int64_t> samples(n);
    ASSERT_TRUE(sampler->SampleInto(absl::MakeSpan(samples), draws).ok());

    const auto pmf = DiscreteGaussianPmf(sigma2);
    double exact_var = 0, exact_m4 = 0, exact_tail = 0;
    const double sigma = std::sqrt(sigma2);
    for (const auto& [x, p] : pmf) {
      exact_var += p * x * x;
      exact_m4 += p * std::pow(static_cast<double>(x), 4);
      if (std::abs(static_cast<double>(x)) > 2 * sigma) exact_tail += p;
    }
    std::map<int64_t, int64_t> counts;
    double mean = 0, var = 0;
    int64_t tail = 0;
    for (int64_t x : samples) {
      ++counts[x];
      mean += x;
      var += static_cast<double>(x) * x;
      tail += std::abs(static_cast<double>(x)) > 2 * sigma;
    }
    mean /= n;
    var /= n;
    // Standard errors of the mean, the second moment and a frequency.
    EXPECT_NEAR(mean, 0.0, 5 * std::sqrt(exact_var / n)) << sigma2;
    EXPECT_NEAR(var, exact_var, 5 * std::sqrt((exact_m4 - exact_var * exact_var) / n)) << sigma2;
    EXPECT_NEAR(static_cast<double>(tail) / n, exact_tail,
                5 * std::sqrt(exact_tail * (1 - exact_tail) / n))
        << sigma2;
    auto [stat, dof] = ChiSquare(counts, pmf, n);
    EXPECT_LT(stat, ChiSquareLimit(dof)) << "sigma^2 " << sigma2 << " dof " << dof;
    // For sigma >= 1 the discrete Gaussian's variance is sigma^2 to within
    // 1e-8 (CKS20 Prop. 19: it is below sigma^2 and above sigma^2(1 - 4pi^2 sigma^2 ...)).
    if (sigma2 >= 1) {
      EXPECT_NEAR(exact_var, sigma2, 1e-6 * sigma2);
    }
  }
}

TEST(DiscreteGaussianTest, SeededSamplesAreReproducibleAndSourcesDiffer) {
  auto sampler = DiscreteGaussianSampler::Create(Rational{100, 1});
  ASSERT_TRUE(sampler.ok());
  auto a = Source(42), b = Source(42), c = Source(43);
  RandomDraws da(a), db(b), dc(c);
  std::vector<int64_t> xa(1000), xb(1000), xc(1000);
  ASSERT_TRUE(sampler->SampleInto(absl::MakeSpan(xa), da).ok());
  ASSERT_TRUE(sampler->SampleInto(absl::MakeSpan(xb), db).ok());
  ASSERT_TRUE(sampler->SampleInto(absl::MakeSpan(xc), dc).ok());
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
  OsBitSource os;
  RandomDraws d1(os), d2(os);
  std::vector<int64_t> o1(1000), o2(1000);
  ASSERT_TRUE(sampler->SampleInto(absl::MakeSpan(o1), d1).ok());
  ASSERT_TRUE(sampler->SampleInto(absl::MakeSpan(o2), d2).ok());
  EXPECT_NE(o1, o2);
}

TEST(DiscreteGaussianTest, RejectsParametersBeyondExactArithmetic) {
  EXPECT_FALSE(DiscreteGaussianSampler::Create(Rational{0, 1}).ok());
  EXPECT_FALSE(DiscreteGaussianSampler::Create(Rational{1, 0}).ok());
  // A denominator of 2^62 leaves a truncation below 40 sigma.
  EXPECT_FALSE(DiscreteGaussianSampler::Create(Rational{3, uint64_t{1} << 62}).ok());
  auto sampler = DiscreteGaussianSampler::Create(Rational{50, 2});  // reduced to 25
  ASSERT_TRUE(sampler.ok());
  EXPECT_EQ(sampler->sigma_squared().numerator, 25u);
  EXPECT_EQ(sampler->laplace_scale(), 6u);
  EXPECT_GE(sampler->truncation(), 40u * 5);
}

}  // namespace
}  // namespace tacit::privacy
