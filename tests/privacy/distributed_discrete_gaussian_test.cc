#include "privacy/distributed_discrete_gaussian.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/conditional_rounding.h"
#include "privacy/ddg_planner.h"
#include "privacy/discrete_gaussian.h"
#include "privacy/hadamard_rotation.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {
namespace {

constexpr double kPi = 3.14159265358979323846;

DdgMechanism Mechanism(double local_variance, int64_t n) {
  DdgMechanism m;
  m.clip = 1.0;
  m.gamma = 1.0 / 64;
  m.beta = std::exp(-0.5);
  m.local_variance = local_variance;
  m.dim = 1024;
  m.min_clients = n;
  return m;
}

TEST(DdgAccountingTest, TauIsTheoremOnesSum) {
  // sigma^2 = 0.05, n = 3: 10 (e^{-2 pi^2 0.05 / 2} + e^{-2 pi^2 0.05 2/3}).
  const double expected =
      10 * (std::exp(-2 * kPi * kPi * 0.05 / 2) + std::exp(-2 * kPi * kPi * 0.05 * 2 / 3));
  EXPECT_NEAR(*DdgTau(0.05, 3), expected, 1e-12);
  EXPECT_EQ(*DdgTau(0.05, 1), 0.0);     // one client: one discrete Gaussian, exact
  EXPECT_EQ(*DdgTau(100.0, 500), 0.0);  // e^{-2 pi^2 100} underflows
  EXPECT_FALSE(DdgTau(0, 3).ok());
}

// With tau = 0 (large sigma) and q = 1 the DDG is the Gaussian mechanism with
// z = sqrt(n) sigma / Delta_2: its RDP is exactly a / (2 z^2).
TEST(DdgAccountingTest, LargeNoiseWithoutSamplingIsTheGaussianCurve) {
  const DdgMechanism m = Mechanism(4000.0, 100);
  const double l2 = *DdgL2Sensitivity(m);
  const double z = std::sqrt(100 * 4000.0) / l2;
  const std::vector<int> orders = {2, 3, 10, 64, 256};
  auto rdp = DdgRdpPerRound(m, 1.0, orders);
  ASSERT_TRUE(rdp.ok());
  for (size_t i = 0; i < orders.size(); ++i) {
    EXPECT_NEAR((*rdp)[i], SampledGaussianRdp(1.0, z, orders[i]), 1e-12 * (*rdp)[i]);
  }
}

// Subsampling helps but the general Zhu-Wang bound can never beat the exact
// subsampled-Gaussian RDP of the same z (about 4.3x looser here); the
// Gaussian-shape bound with tau = 0 is that exact curve. A small sigma
// (tau > 0) costs privacy.
TEST(DdgAccountingTest, SubsamplingAndTauMoveEpsilonTheRightWay) {
  const DdgMechanism m = Mechanism(4000.0, 100);
  const double z = std::sqrt(100 * 4000.0) / *DdgL2Sensitivity(m);
  auto sampled = DdgEpsilon(m, 0.01, 1000, 1e-6);
  auto full = DdgEpsilon(m, 1.0, 1000, 1e-6);
  ASSERT_TRUE(sampled.ok() && full.ok());
  RdpAccountant gaussian;
  ASSERT_TRUE(gaussian.ComposeSampledGaussian(0.01, z, 1000).ok());
  const double exact = gaussian.Spent(1e-6)->epsilon;
  EXPECT_LT(sampled->epsilon, full->epsilon);
  EXPECT_GE(sampled->epsilon, exact - 1e-9);
  EXPECT_LE(sampled->epsilon, 5 * exact);
  auto shaped = DdgEpsilon(m, 0.01, 1000, 1e-6, SubsamplingBound::kGaussianShape);
  ASSERT_TRUE(shaped.ok());
  EXPECT_NEAR(shaped->epsilon, exact, 1e-9);

  // Same central variance n sigma^2 split over more clients with small
  // sigma: tau grows and so does epsilon.
  DdgMechanism spread = m;
  spread.min_clients = 1000000;
  spread.local_variance = 4000.0 * 100 / 1000000;  // 0.4: tau ~ 10 n e^{-7.9}
  EXPECT_GT(*DdgTau(spread.local_variance, spread.min_clients), 1.0);
  EXPECT_GT(DdgEpsilon(spread, 1.0, 1000, 1e-6)->epsilon, full->epsilon);
}

// Huge noise makes the per-round RDP round to a tiny negative number in the
// subsampled-Gaussian sum; it must count as zero, not fail the accounting
// (the planner bisects up to sigma^2 = 1e30).
TEST(DdgAccountingTest, HugeNoiseAccountsAsZeroForBothSubsamplingBounds) {
  for (SubsamplingBound bound : {SubsamplingBound::kGeneral, SubsamplingBound::kGaussianShape}) {
    for (double variance : {1e12, 1e20, 1e30}) {
      auto spent = DdgEpsilon(Mechanism(variance, 100), 0.05, 1000, 1e-6, bound);
      ASSERT_TRUE(spent.ok()) << spent.status() << " variance " << variance;
      // The floor of the improved conversion at order 1024 is ~0.0057.
      EXPECT_LT(spent->epsilon, 0.01);
    }
  }
}

// Fraction of `rounds` simulated rounds in which some coordinate of the sum
// of n clients' (rotated, scaled, conditionally rounded, noised) updates
// leaves [-2^(bits-1), 2^(bits-1)). Worst case for the signal: every client
// sends the same spike.
double SimulatedWrapRate(const DdgMechanism& m, int64_t n, int bits, int rounds,
                         RandomDraws& draws) {
  auto sampler = DiscreteGaussianSampler::Create(*Rational::FromDouble(m.local_variance));
  EXPECT_TRUE(sampler.ok());
  const double bound = *DdgL2Sensitivity(m);
  const int64_t half = int64_t{1} << (bits - 1);
  int wrapped = 0;
  for (int round = 0; round < rounds; ++round) {
    auto rotation = HadamardRotation::Create(static_cast<size_t>(m.dim), *draws.Word());
    std::vector<int64_t> sum(static_cast<size_t>(m.dim), 0);
    for (int64_t client = 0; client < n; ++client) {
      std::vector<double> update(static_cast<size_t>(m.dim), 0.0);
      update[0] = 1.0;
      auto rotated = rotation->Rotate(update);
      auto scaled = ClipAndScale(*rotated, m.clip, m.gamma);
      auto rounded = ConditionalRandomizedRound(*scaled, bound, draws);
      EXPECT_TRUE(rounded.ok());
      std::vector<int64_t> noise(sum.size());
      EXPECT_TRUE(sampler->SampleInto(absl::MakeSpan(noise), draws).ok());
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += rounded->values[i] + noise[i];
    }
    bool any = false;
    for (int64_t v : sum) any |= v < -half || v >= half;
    wrapped += any;
  }
  return static_cast<double>(wrapped) / rounds;
}

// The wrap bound holds on the real pipeline, both where the noise dominates
// the sum and where the signal does (the latter fails if the bound drops its
// signal term). Bits are chosen small so that wraps actually happen.
TEST(DdgAccountingTest, WrapBoundCoversSimulatedSums) {
  auto source = *SeededBitSourceForSimulation::FromSeed(23, "wrap_test");
  RandomDraws draws(source);
  const int64_t n = 10;
  struct Case {
    double gamma, variance;
    std::vector<int> bits;
  };
  const std::vector<Case> cases = {{1.0 / 16, 9.0, {6, 7, 8}}, {1.0 / 64, 1.0, {7, 8, 9}}};
  for (const Case& c : cases) {
    DdgMechanism m;
    m.clip = 1.0;
    m.gamma = c.gamma;
    m.beta = std::exp(-0.5);
    m.local_variance = c.variance;
    m.dim = 64;
    m.min_clients = n;
    for (int bits : c.bits) {
      const double predicted = *ModularWrapProbability(m, n, bits);
      const int rounds = 300;
      const double observed = SimulatedWrapRate(m, n, bits, rounds, draws);
      // Binomial slack: 4 standard errors above the bound.
      EXPECT_LE(observed, predicted + 4 * std::sqrt(std::max(predicted, 1e-3) / rounds))
          << "gamma " << c.gamma << ", " << bits << " bits: observed " << observed << " bound "
          << predicted;
    }
    EXPECT_EQ(*ModularWrapProbability(m, n, 2), 1.0);
    EXPECT_LT(*ModularWrapProbability(m, n, 24), 1e-9);
  }
}

// The planner's output meets every constraint it was given, and more bits
// buy a finer grid and an error closer to the central Gaussian's.
TEST(DdgPlannerTest, PlansMeetTheirTargetsAndImproveWithBits) {
  DdgPlanRequest request;
  request.epsilon = 4.0;
  request.delta = 1e-6;
  request.rounds = 200;
  request.sampling_rate = 1.0;
  request.min_clients = 100;
  request.max_clients = 150;
  request.dim = 10000;
  request.clip = 1.0;
  double previous_gamma = 1e300, previous_inflation = 1e300;
  for (int bits : {16, 18, 20}) {
    auto plan = PlanDdgForBits(request, bits);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_LE(plan->epsilon, request.epsilon * (1 + 1e-9));
    EXPECT_GT(plan->epsilon, request.epsilon * 0.99);  // not wastefully noisy
    EXPECT_LE(plan->wrap_probability, request.max_wrap_probability);
    EXPECT_EQ(plan->mechanism.dim, 16384);
    EXPECT_LT(plan->mechanism.gamma, previous_gamma);
    EXPECT_LT(plan->noise_inflation, previous_inflation);
    EXPECT_GE(plan->noise_inflation, 1.0);
    std::printf("bits %d gamma %.6g sigma^2 %.6g eps %.4f wrap %.3g z* %.4f inflation %.4f\n", bits,
                plan->mechanism.gamma, plan->mechanism.local_variance, plan->epsilon,
                plan->wrap_probability, plan->central_noise_multiplier, plan->noise_inflation);
    previous_gamma = plan->mechanism.gamma;
    previous_inflation = plan->noise_inflation;
  }
  EXPECT_LT(previous_inflation, 1.05);
  auto chosen = PlanDdg(request);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  std::printf("chosen: bits %d inflation %.4f\n", chosen->bits, chosen->noise_inflation);
  EXPECT_LE(chosen->noise_inflation, 1.05);
  EXPECT_LE(chosen->bits, 20);
  // 4 bits cannot hold 150 updates; at 14 bits the noise for epsilon 4 over
  // 200 rounds without amplification (z ~ 20, and Delta_2 >= sqrt(d) / 2 from
  // rounding alone) needs more room than the ring has at 1e-9.
  EXPECT_EQ(PlanDdgForBits(request, 4).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PlanDdgForBits(request, 14).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tacit::privacy
