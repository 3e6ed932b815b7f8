// The discrete Gaussian as the fleet plans it for a fixed noise multiplier
// (PlanDdgForNoise) and the accounting of such releases
// (GaussianDominatedRdp): random tasks, and the properties the laptop's and
// the coordinator's epsilons rest on.

#include <cmath>
#include <cstdint>
#include <random>

#include "gtest/gtest.h"
#include "privacy/ddg_planner.h"
#include "privacy/distributed_discrete_gaussian.h"
#include "privacy/rdp_accountant.h"

namespace tacit::privacy {
namespace {

DdgNoiseRequest RandomRequest(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  DdgNoiseRequest r;
  r.noise_multiplier = 0.3 + 8 * unit(rng);
  r.clip = std::pow(10.0, -2 + 4 * unit(rng));
  r.min_clients = std::uniform_int_distribution<int64_t>(2, 400)(rng);
  r.max_clients = r.min_clients + std::uniform_int_distribution<int64_t>(0, 200)(rng);
  r.dim = std::uniform_int_distribution<int64_t>(1, 300000)(rng);
  r.bits = std::uniform_int_distribution<int>(20, 40)(rng);
  return r;
}

TEST(DdgNoisePlanTest, EveryPlanIsAtLeastAsPrivateAsTheGaussianAtZAndCannotWrap) {
  std::mt19937_64 rng(20261130);
  for (int trial = 0; trial < 40; ++trial) {
    const DdgNoiseRequest r = RandomRequest(rng);
    SCOPED_TRACE(::testing::Message()
                 << "trial " << trial << ": z " << r.noise_multiplier << " clip " << r.clip << " n "
                 << r.min_clients << ".." << r.max_clients << " d " << r.dim << " bits " << r.bits);
    absl::StatusOr<DdgPlan> plan = PlanDdgForNoise(r);
    ASSERT_TRUE(plan.ok()) << plan.status();
    const DdgMechanism& m = plan->mechanism;
    EXPECT_EQ(plan->bits, r.bits);
    EXPECT_GE(m.dim, r.dim);
    EXPECT_LT(m.dim, 2 * r.dim + 1);
    EXPECT_EQ(m.dim & (m.dim - 1), 0) << "the rotation needs a power of two";
    absl::StatusOr<double> dominating = DdgDominatingNoiseMultiplier(m);
    ASSERT_TRUE(dominating.ok());
    EXPECT_GE(*dominating, r.noise_multiplier);
    EXPECT_LE(*dominating, r.noise_multiplier * 1.001) << "no more noise than asked for";
    // At q = 1 the mechanism's own RDP (Prop. 14) is under the Gaussian's.
    const std::vector<int> orders = RdpAccountant::DefaultOrders();
    absl::StatusOr<std::vector<double>> rdp = DdgRdpPerRound(m, 1.0, orders);
    ASSERT_TRUE(rdp.ok());
    for (size_t i = 0; i < orders.size(); ++i) {
      EXPECT_LE((*rdp)[i], orders[i] / (2 * r.noise_multiplier * r.noise_multiplier) * (1 + 1e-9))
          << "order " << orders[i];
    }
    EXPECT_LE(plan->wrap_probability, r.max_wrap_probability);
    // The finest safe grid: 2% finer wraps too often (signal and noise grow
    // in integer units as the grid shrinks), unless the grid is at a floor:
    // 1e-9 clip, or the sampler's largest variance, 2^50.
    EXPECT_LE(m.local_variance, 1125899906842624.0) << "beyond the exact sampler's range";
    if (m.gamma > 1.05e-9 * r.clip && m.local_variance < 0.9 * 1125899906842624.0) {
      DdgMechanism finer = m;
      finer.gamma = m.gamma * 0.98;
      finer.local_variance = m.local_variance / (0.98 * 0.98);
      absl::StatusOr<double> finer_wrap = ModularWrapProbability(finer, r.max_clients, r.bits);
      ASSERT_TRUE(finer_wrap.ok());
      EXPECT_GT(*finer_wrap, r.max_wrap_probability);
    }
    // Rounding and padding cost a little accuracy against the continuous
    // Gaussian, never less noise.
    EXPECT_GE(plan->noise_inflation, 1.0);
  }
}

TEST(DdgNoisePlanTest, TooFewBitsForTheCohortIsRefusedWithTheReason) {
  DdgNoiseRequest r;
  r.noise_multiplier = 1;
  r.clip = 1;
  r.min_clients = 100;
  r.max_clients = 5000;
  r.dim = 1000;
  r.bits = 12;
  absl::StatusOr<DdgPlan> plan = PlanDdgForNoise(r);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("more bits"), std::string::npos) << plan.status();
  r.noise_multiplier = 0;
  EXPECT_EQ(PlanDdgForNoise(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GaussianDominatedRdpTest, UnsampledIsTheGaussianAndSampledIsBetweenTheTwoBounds) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int trial = 0; trial < 50; ++trial) {
    const double z = 0.5 + 10 * unit(rng);
    const double q = std::pow(10.0, -3 * unit(rng));
    const int order = std::uniform_int_distribution<int>(2, 256)(rng);
    SCOPED_TRACE(::testing::Message() << "z " << z << " q " << q << " order " << order);
    const double gaussian = order / (2 * z * z);
    EXPECT_DOUBLE_EQ(GaussianDominatedRdp(1.0, z, order), gaussian);
    const double sampled = GaussianDominatedRdp(q, z, order);
    // The general bound holds for the Gaussian too, so it is never below the
    // subsampled Gaussian's own RDP, and subsampling never costs more than
    // not subsampling.
    EXPECT_GE(sampled, SampledGaussianRdp(q, z, order) * (1 - 1e-9));
    EXPECT_LE(sampled, gaussian * (1 + 1e-12));
  }
  EXPECT_EQ(GaussianDominatedRdp(0.0, 1.0, 8), 0.0);
  EXPECT_TRUE(std::isinf(GaussianDominatedRdp(0.5, 0.0, 8)));
}

TEST(GaussianDominatedRdpTest, AccountantComposesItAndRefusesBadArguments) {
  RdpAccountant general, gaussian;
  ASSERT_TRUE(general.ComposeGaussianDominated(0.01, 1.1, 1000).ok());
  ASSERT_TRUE(gaussian.ComposeSampledGaussian(0.01, 1.1, 1000).ok());
  const double general_eps = general.Spent(1e-6)->epsilon;
  const double gaussian_eps = gaussian.Spent(1e-6)->epsilon;
  EXPECT_GT(general_eps, gaussian_eps);  // the price of not being a Gaussian
  RdpAccountant unsampled_general, unsampled_gaussian;
  ASSERT_TRUE(unsampled_general.ComposeGaussianDominated(1.0, 3.0, 10).ok());
  ASSERT_TRUE(unsampled_gaussian.ComposeSampledGaussian(1.0, 3.0, 10).ok());
  EXPECT_DOUBLE_EQ(unsampled_general.Spent(1e-6)->epsilon, unsampled_gaussian.Spent(1e-6)->epsilon);
  RdpAccountant bad;
  EXPECT_FALSE(bad.ComposeGaussianDominated(1.5, 1.0).ok());
  EXPECT_FALSE(bad.ComposeGaussianDominated(0.5, -1.0).ok());
}

}  // namespace
}  // namespace tacit::privacy
