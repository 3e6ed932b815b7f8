#include "coordinator/server_optimizer.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tacit::coordinator {
namespace {

ServerOptimizerConfig Config(ServerOptimizerType type, double lr) {
  ServerOptimizerConfig c;
  c.type = type;
  c.lr = lr;
  return c;
}

TEST(ServerOptimizerTest, FedAvgMovesByLrTimesMeanUpdate) {
  auto opt = ServerOptimizer::Create(Config(ServerOptimizerType::kFedAvg, 0.5), 3);
  ASSERT_TRUE(opt.ok());
  std::vector<float> x = {1, 2, 3};
  ASSERT_TRUE(opt->Apply(std::vector<float>{2, -4, 0}, absl::MakeSpan(x)).ok());
  EXPECT_FLOAT_EQ(x[0], 2);
  EXPECT_FLOAT_EQ(x[1], 0);
  EXPECT_FLOAT_EQ(x[2], 3);
  EXPECT_EQ(opt->steps(), 1);
}

TEST(ServerOptimizerTest, LearningRateHalvesEveryHalfLifeAndTheStateKeepsTheDecay) {
  ServerOptimizerConfig c = Config(ServerOptimizerType::kFedAvg, 0.8);
  c.lr_half_life_rounds = 2;
  auto opt = ServerOptimizer::Create(c, 1);
  ASSERT_TRUE(opt.ok());
  std::vector<float> x = {0};
  float d = 1.0f;
  // Rounds 0..3 move by 0.8 * 2^(-t/2): 0.8, 0.5657, 0.4, 0.2828.
  double expected = 0;
  for (int t = 0; t < 4; ++t) {
    EXPECT_NEAR(opt->current_lr(), 0.8 * std::exp2(-t / 2.0), 1e-12);
    ASSERT_TRUE(opt->Apply({&d, 1}, absl::MakeSpan(x)).ok());
    expected += 0.8 * std::exp2(-t / 2.0);
    EXPECT_NEAR(x[0], expected, 1e-5);
  }
  auto restored = ServerOptimizer::Restore(c, 1, opt->SerializeState());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_NEAR(restored->current_lr(), 0.2, 1e-12);  // after 4 rounds: two half-lives
  c.lr_half_life_rounds = -1;
  EXPECT_FALSE(ServerOptimizer::Create(c, 1).ok());
}

TEST(ServerOptimizerTest, FedAvgMAccumulatesMomentum) {
  ServerOptimizerConfig c = Config(ServerOptimizerType::kFedAvgM, 1.0);
  c.momentum = 0.5;
  auto opt = ServerOptimizer::Create(c, 1);
  ASSERT_TRUE(opt.ok());
  std::vector<float> x = {0};
  // m1 = 1, x = 1; m2 = 0.5 + 1 = 1.5, x = 2.5; m3 = 0.75 + 0 = 0.75, x = 3.25.
  for (float d : {1.0f, 1.0f, 0.0f}) ASSERT_TRUE(opt->Apply({&d, 1}, absl::MakeSpan(x)).ok());
  EXPECT_FLOAT_EQ(x[0], 3.25f);
}

TEST(ServerOptimizerTest, FedAdamMatchesHandComputedSteps) {
  ServerOptimizerConfig c = Config(ServerOptimizerType::kFedAdam, 0.1);
  c.beta1 = 0.9;
  c.beta2 = 0.99;
  c.epsilon = 0.01;
  auto opt = ServerOptimizer::Create(c, 1);
  ASSERT_TRUE(opt.ok());
  std::vector<float> x = {0};
  float d = 1.0f;
  // Step 1: m = 0.1, v = 0.99 * 1e-4 + 0.01 = 0.010099,
  //         x = 0.1 * 0.1 / (sqrt(0.010099) + 0.01) = 0.0904954...
  ASSERT_TRUE(opt->Apply({&d, 1}, absl::MakeSpan(x)).ok());
  EXPECT_NEAR(x[0], 0.01 / (std::sqrt(0.010099) + 0.01), 1e-6);
  // Step 2 with Delta = -2: m = 0.09 - 0.2 = -0.11,
  //         v = 0.99 * 0.010099 + 0.01 * 4 = 0.04999801,
  //         x += 0.1 * -0.11 / (sqrt(0.04999801) + 0.01)
  float before = x[0];
  d = -2.0f;
  ASSERT_TRUE(opt->Apply({&d, 1}, absl::MakeSpan(x)).ok());
  EXPECT_NEAR(x[0] - before, -0.011 / (std::sqrt(0.04999801) + 0.01), 1e-6);
}

TEST(ServerOptimizerTest, StateRoundTripGivesIdenticalTrajectories) {
  std::mt19937 rng(7);
  for (ServerOptimizerType type : {ServerOptimizerType::kFedAvg, ServerOptimizerType::kFedAvgM,
                                   ServerOptimizerType::kFedAdam}) {
    size_t dim = 1 + rng() % 500;
    ServerOptimizerConfig c = Config(type, 0.3);
    auto a = ServerOptimizer::Create(c, dim);
    ASSERT_TRUE(a.ok());
    std::normal_distribution<float> normal;
    std::vector<float> xa(dim, 0.0f), update(dim);
    for (int round = 0; round < 3; ++round) {
      for (float& u : update) u = normal(rng);
      ASSERT_TRUE(a->Apply(update, absl::MakeSpan(xa)).ok());
    }
    auto b = ServerOptimizer::Restore(c, dim, a->SerializeState());
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->steps(), 3);
    std::vector<float> xb = xa;
    for (int round = 0; round < 3; ++round) {
      for (float& u : update) u = normal(rng);
      ASSERT_TRUE(a->Apply(update, absl::MakeSpan(xa)).ok());
      ASSERT_TRUE(b->Apply(update, absl::MakeSpan(xb)).ok());
    }
    EXPECT_EQ(xa, xb) << ServerOptimizerName(type);
  }
}

TEST(ServerOptimizerTest, RejectsMismatchesAndNonFiniteUpdates) {
  auto opt = ServerOptimizer::Create(Config(ServerOptimizerType::kFedAdam, 0.1), 4);
  ASSERT_TRUE(opt.ok());
  std::vector<float> x(4, 0.0f);
  EXPECT_FALSE(opt->Apply(std::vector<float>(3, 1.0f), absl::MakeSpan(x)).ok());
  std::vector<float> bad = {0, NAN, 0, 0};
  EXPECT_FALSE(opt->Apply(bad, absl::MakeSpan(x)).ok());
  EXPECT_EQ(x, std::vector<float>(4, 0.0f));
  EXPECT_EQ(opt->steps(), 0);

  std::string state = opt->SerializeState();
  EXPECT_FALSE(ServerOptimizer::Restore(opt->config(), 5, state).ok());
  EXPECT_FALSE(ServerOptimizer::Restore(Config(ServerOptimizerType::kFedAvgM, 0.1), 4, state).ok());
  EXPECT_FALSE(ServerOptimizer::Restore(opt->config(), 4, state.substr(0, state.size() - 1)).ok());
  EXPECT_FALSE(ServerOptimizer::Create(Config(ServerOptimizerType::kFedAvg, 0.0), 4).ok());
}

}  // namespace
}  // namespace tacit::coordinator
