#include "privacy/conditional_rounding.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {
namespace {

double SquaredNorm(const std::vector<int64_t>& z) {
  double s = 0;
  for (int64_t v : z) s += static_cast<double>(v) * v;
  return s;
}

// KLS21 Thm. 1 numbers: A = 10, d = 100, beta = exp(-1/2):
// min(10 + 10, sqrt(100 + 25 + 1 * (10 + 5))) = sqrt(140).
TEST(ConditionalRoundingTest, NormBoundIsThePapersMinimum) {
  EXPECT_NEAR(*RoundedNormBound(10, std::exp(-0.5), 100), std::sqrt(140.0), 1e-12);
  EXPECT_NEAR(*RoundedNormBound(10, 0, 100), 20.0, 1e-12);
  // Tiny beta: the deterministic bound A + sqrt(d) takes over.
  EXPECT_NEAR(*RoundedNormBound(1, 1e-300, 4), 3.0, 1e-12);
  EXPECT_FALSE(RoundedNormBound(0, 0.5, 4).ok());
  EXPECT_FALSE(RoundedNormBound(1, 1.0, 4).ok());
  EXPECT_FALSE(RoundedNormBound(1, 0.5, 0).ok());
}

// Property test over random sizes, norms and seeds: every accepted rounding is
// within the bound, each coordinate moved by less than 1, few draws are needed
// (expected <= 1 / (1 - beta)), and the rounding is unbiased on average.
TEST(ConditionalRoundingTest, RespectsNormBoundAndIsNearlyUnbiased) {
  auto source = *SeededBitSourceForSimulation::FromSeed(17, "rounding_test");
  RandomDraws draws(source);
  const double beta = std::exp(-0.5);
  int total_attempts = 0, trials = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const size_t dim = 1 + static_cast<size_t>(absl::Uint128Low64(*draws.UniformBelow(2000)));
    const double clip = 0.1 + static_cast<double>(*draws.UniformBelow(1000)) / 10;
    const double gamma = clip / (1 + static_cast<double>(*draws.UniformBelow(200)));
    std::vector<double> raw(dim);
    for (double& v : raw) v = static_cast<double>(*draws.Word() >> 11) / (1ull << 53) - 0.5;
    auto scaled = ClipAndScale(raw, clip, gamma);
    ASSERT_TRUE(scaled.ok());
    double norm = 0;
    for (double v : *scaled) norm += v * v;
    ASSERT_LE(std::sqrt(norm), clip / gamma * (1 + 1e-12));
    const double bound = *RoundedNormBound(clip / gamma, beta, dim);
    auto rounded = ConditionalRandomizedRound(*scaled, bound, draws);
    ASSERT_TRUE(rounded.ok()) << rounded.status();
    EXPECT_LE(SquaredNorm(rounded->values), bound * bound);
    for (size_t i = 0; i < dim; ++i) {
      ASSERT_LT(std::fabs(rounded->values[i] - (*scaled)[i]), 1.0);
    }
    total_attempts += rounded->attempts;
    ++trials;
  }
  EXPECT_LE(static_cast<double>(total_attempts) / trials, 1 / (1 - beta));

  // Unbiased-ish: the mean of many roundings of one vector is the vector.
  std::vector<double> x = {0.3, -2.7, 5.5, 0.01, -0.99, 7.0};
  const double bound =
      *RoundedNormBound(std::sqrt(0.09 + 7.29 + 30.25 + 1e-4 + 0.9801 + 49) + 1e-9, beta, x.size());
  std::vector<double> mean(x.size(), 0.0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto r = ConditionalRandomizedRound(x, bound, draws);
    ASSERT_TRUE(r.ok());
    for (size_t j = 0; j < x.size(); ++j) mean[j] += static_cast<double>(r->values[j]) / n;
  }
  // Conditioning on the norm can bias slightly; 5 standard errors (<= 0.5/sqrt(n))
  // plus 0.01 for that.
  for (size_t j = 0; j < x.size(); ++j) EXPECT_NEAR(mean[j], x[j], 5 * 0.5 / std::sqrt(n) + 0.01);
}

// The bound is enforced even against an input that was never clipped: no
// rounding of a too-long vector is ever returned.
TEST(ConditionalRoundingTest, RefusesInputsLongerThanTheirBound) {
  auto source = *SeededBitSourceForSimulation::FromSeed(18, "rounding_test");
  RandomDraws draws(source);
  std::vector<double> long_vector(100, 3.0);  // norm 30
  auto rounded = ConditionalRandomizedRound(long_vector, 20.0, draws, 50);
  EXPECT_EQ(rounded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ConditionalRandomizedRound(std::vector<double>{std::nan("")}, 1, draws).ok());
  EXPECT_FALSE(ClipAndScale(std::vector<double>{1.0}, 0, 1).ok());
}

}  // namespace
}  // namespace tacit::privacy
