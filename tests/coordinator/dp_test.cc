#include <cmath>
#include <random>
#include <vector>

#include "common/dp_noise.h"
#include "coordinator/rdp_accountant.h"
#include "gtest/gtest.h"

namespace tacit::coordinator {
namespace {

// Published reference: Google dp_accounting, rdp_privacy_accountant_test.py,
// test_compute_rdp_poisson_sampled_gaussian (q = 0.01, z = 2.5, 50 steps).
TEST(RdpAccountantTest, MatchesDpAccountingSampledGaussianValues) {
  RdpAccountant accountant({5, 50, 100});
  ASSERT_TRUE(accountant.ComposeSampledGaussian(0.01, 2.5, 50).ok());
  const double expected[] = {2.18075656e-03, 2.38460375e-02, 1.67416308e02};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(accountant.rdp()[i], expected[i], 1e-4 * expected[i]) << "order index " << i;
  }
}

// Published reference: dp_accounting test_compute_epsilon_delta_pure_dp
// (constant RDP 1.1 over orders 2..32, delta 1e-5 -> 1.32783806176 at 32).
TEST(RdpAccountantTest, ImprovedConversionMatchesDpAccounting) {
  std::vector<int> orders;
  for (int a = 2; a <= 32; ++a) orders.push_back(a);
  std::vector<double> rdp(orders.size(), 1.1);
  auto spent = EpsilonFromRdp(orders, rdp, 1e-5);
  ASSERT_TRUE(spent.ok());
  EXPECT_NEAR(spent->epsilon, 1.32783806176, 1e-9);
  EXPECT_EQ(spent->order, 32);
}

// Published reference: Opacus compute_dp_sgd_privacy documentation: 60000
// examples, batch 256, z = 1.12, 60 epochs (60 * 235 steps), delta 1e-5,
// orders {10, 20, 100} -> (2.95, 1e-5), with the classic conversion.
TEST(RdpAccountantTest, ClassicConversionMatchesOpacusDocumentedDpSgd) {
  RdpAccountant accountant({10, 20, 100});
  ASSERT_TRUE(accountant.ComposeSampledGaussian(256.0 / 60000, 1.12, 60 * 235).ok());
  auto spent = accountant.Spent(1e-5, RdpConversion::kClassic);
  ASSERT_TRUE(spent.ok());
  EXPECT_NEAR(spent->epsilon, 2.95, 0.005);
  EXPECT_EQ(spent->order, 10);
}

// dp_accounting test_compute_epsilon_delta_gaussian: z = 4.530877117 without
// sampling is exactly (1, 1e-6)-DP over fine fractional orders; integer
// orders can only be slightly looser, never tighter.
TEST(RdpAccountantTest, FullBatchGaussianIsCloseToExactCurve) {
  RdpAccountant accountant;
  ASSERT_TRUE(accountant.ComposeSampledGaussian(1.0, 4.530877117, 1).ok());
  auto spent = accountant.Spent(1e-6);
  ASSERT_TRUE(spent.ok());
  EXPECT_GE(spent->epsilon, 1.0 - 1e-6);
  EXPECT_LE(spent->epsilon, 1.02);
  EXPECT_NEAR(SampledGaussianRdp(1.0, 2.0, 7), 7.0 / 8.0, 1e-12);
}

// The setting of the task brief: z = 1.1, q = 0.01, 10k steps, delta 1e-5.
// Integer orders give 6.28 (classic) and 5.65 (improved conversion).
TEST(RdpAccountantTest, BriefSettingIsStableAndMonotone) {
  RdpAccountant accountant;
  ASSERT_TRUE(accountant.ComposeSampledGaussian(0.01, 1.1, 10000).ok());
  auto improved = accountant.Spent(1e-5);
  auto classic = accountant.Spent(1e-5, RdpConversion::kClassic);
  ASSERT_TRUE(improved.ok() && classic.ok());
  EXPECT_NEAR(classic->epsilon, 6.2798, 1e-3);
  EXPECT_NEAR(improved->epsilon, 5.6543, 1e-3);

  // More rounds, less noise or a higher sampling rate never help privacy.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    double q = 0.001 + 0.2 * u(rng), z = 0.5 + 3 * u(rng);
    int rounds = 1 + static_cast<int>(500 * u(rng));
    auto eps = [&](double qq, double zz, int r) {
      RdpAccountant a;
      EXPECT_TRUE(a.ComposeSampledGaussian(qq, zz, r).ok());
      return a.Spent(1e-5)->epsilon;
    };
    double base = eps(q, z, rounds);
    EXPECT_LE(base, eps(q, z, rounds + 10) + 1e-12);
    EXPECT_LE(base, eps(q, z * 0.9, rounds) + 1e-12);
    EXPECT_LE(base, eps(std::min(1.0, q * 1.5), z, rounds) + 1e-12);
  }
}

TEST(RdpAccountantTest, EdgeCasesAndErrors) {
  RdpAccountant accountant;
  ASSERT_TRUE(accountant.ComposeSampledGaussian(0.0, 1.0, 100).ok());
  EXPECT_EQ(accountant.Spent(1e-5)->epsilon, 0.0);
  ASSERT_TRUE(accountant.ComposeSampledGaussian(0.1, 0.0, 1).ok());
  EXPECT_TRUE(std::isinf(accountant.Spent(1e-5)->epsilon));
  EXPECT_FALSE(accountant.ComposeSampledGaussian(1.5, 1.0).ok());
  EXPECT_FALSE(accountant.ComposeSampledGaussian(0.1, -1.0).ok());
  EXPECT_FALSE(accountant.Spent(0.0).ok());
  EXPECT_FALSE(RdpAccountant({1}).ComposeSampledGaussian(0.1, 1.0).ok());
}

TEST(DpNoiseTest, PerClientShareSumsToCentralNoise) {
  auto stddev = PerClientNoiseStddev(1.2, 0.5, 16);
  ASSERT_TRUE(stddev.ok());
  EXPECT_DOUBLE_EQ(*stddev, 1.2 * 0.5 / 4);
  EXPECT_FALSE(PerClientNoiseStddev(1.0, 0.0, 4).ok());
  EXPECT_FALSE(PerClientNoiseStddev(1.0, 1.0, 0).ok());

  // 16 clients' shares summed per coordinate: std of the sum = z * C = 0.6.
  GaussianNoise::Seed seed{};
  seed[0] = 3;
  auto noise = GaussianNoise::FromSeed(seed);
  ASSERT_TRUE(noise.ok());
  const size_t dim = 20000;
  std::vector<float> sum(dim, 0.0f);
  for (int client = 0; client < 16; ++client) noise->Add(absl::MakeSpan(sum), *stddev);
  double mean = 0, sq = 0;
  for (float v : sum) mean += v;
  mean /= dim;
  for (float v : sum) sq += (v - mean) * (v - mean);
  double sd = std::sqrt(sq / (dim - 1));
  EXPECT_NEAR(mean, 0.0, 5 * 0.6 / std::sqrt(dim));
  EXPECT_NEAR(sd, 0.6, 0.6 * 0.03);
}

TEST(DpNoiseTest, StandardNormalMomentsAndTails) {
  auto noise = GaussianNoise::FromOsEntropy();
  ASSERT_TRUE(noise.ok());
  const int n = 200000;
  double m1 = 0, m2 = 0, m4 = 0;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    double x = noise->Next();
    m1 += x;
    m2 += x * x;
    m4 += x * x * x * x;
    beyond2 += std::fabs(x) > 2;
  }
  EXPECT_NEAR(m1 / n, 0.0, 0.015);
  EXPECT_NEAR(m2 / n, 1.0, 0.02);
  EXPECT_NEAR(m4 / n, 3.0, 0.12);
  EXPECT_NEAR(static_cast<double>(beyond2) / n, 0.0455, 0.004);
}

TEST(DpNoiseTest, SeededStreamsAreReproducibleAndDistinct) {
  GaussianNoise::Seed a{}, b{};
  b[31] = 1;
  auto x = GaussianNoise::FromSeed(a), y = GaussianNoise::FromSeed(a),
       z = GaussianNoise::FromSeed(b);
  ASSERT_TRUE(x.ok() && y.ok() && z.ok());
  int equal_to_other_seed = 0;
  for (int i = 0; i < 1000; ++i) {
    double vx = x->Next(), vy = y->Next(), vz = z->Next();
    EXPECT_EQ(vx, vy);
    equal_to_other_seed += vx == vz;
  }
  EXPECT_EQ(equal_to_other_seed, 0);
  auto os1 = GaussianNoise::FromOsEntropy(), os2 = GaussianNoise::FromOsEntropy();
  EXPECT_NE(os1->Next(), os2->Next());
}

}  // namespace
}  // namespace tacit::coordinator
