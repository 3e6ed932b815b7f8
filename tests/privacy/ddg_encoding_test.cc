#include "privacy/ddg_encoding.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/ddg_planner.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {
namespace {

std::vector<double> Clip(std::vector<double> x, double c) {
  double n = 0;
  for (double v : x) n += v * v;
  n = std::sqrt(n);
  if (n > c) {
    for (double& v : x) v *= c / n;
  }
  return x;
}

// End to end: clients encode, the ring sums, the server decodes the sum of the
// clipped updates; the error per coordinate is the planned noise
// gamma sqrt(n (sigma^2 + rounding variance)), rounding variance in [0, 1/4].
// A wrong rotation seed decodes noise, not the sum (checked where the signal
// dominates the noise).
void CheckRoundTrip(double epsilon, int64_t rounds, bool check_wrong_seed) {
  DdgPlanRequest request;
  request.epsilon = epsilon;
  request.delta = 1e-6;
  request.rounds = rounds;
  request.min_clients = 20;
  request.max_clients = 20;
  request.dim = 1000;
  request.clip = 1.0;
  auto plan = PlanDdgForBits(request, 20);
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto source = *SeededBitSourceForSimulation::FromSeed(41, "encoding_test");
  RandomDraws draws(source);
  const uint64_t seed = 1234;
  const uint64_t mask = (uint64_t{1} << plan->bits) - 1;
  std::vector<uint64_t> ring(static_cast<size_t>(plan->mechanism.dim), 0);
  std::vector<double> truth(1000, 0.0);
  for (int64_t client = 0; client < request.min_clients; ++client) {
    std::vector<double> update(1000);
    // Norms between 0 and 2: about half the clients get clipped.
    const double scale =
        static_cast<double>(*draws.UniformBelow(1000)) / 1000 * 2 / std::sqrt(1000.0 / 3);
    for (double& v : update)
      v = (static_cast<double>(*draws.Word() >> 11) / (1ull << 53) * 2 - 1) * scale;
    const auto clipped = Clip(update, request.clip);
    for (size_t i = 0; i < truth.size(); ++i) truth[i] += clipped[i];
    auto encoded = EncodeDdgUpdate(update, *plan, seed, draws);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    for (size_t i = 0; i < ring.size(); ++i) {
      ASSERT_LE((*encoded)[i], mask);
      ring[i] = (ring[i] + (*encoded)[i]) & mask;
    }
  }
  auto decoded = DecodeDdgSum(ring, *plan, seed, 1000);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  double squared = 0;
  for (size_t i = 0; i < truth.size(); ++i) squared += std::pow((*decoded)[i] - truth[i], 2);
  const double rms = std::sqrt(squared / truth.size());
  const double n = static_cast<double>(request.min_clients), g = plan->mechanism.gamma;
  const double low = g * std::sqrt(n * plan->mechanism.local_variance);
  const double high = g * std::sqrt(n * (plan->mechanism.local_variance + 0.25));
  EXPECT_GT(rms, 0.93 * low) << "epsilon " << epsilon;
  EXPECT_LT(rms, 1.07 * high) << "epsilon " << epsilon;
  if (check_wrong_seed) {
    auto wrong = DecodeDdgSum(ring, *plan, seed + 1, 1000);
    double wrong_squared = 0;
    for (size_t i = 0; i < truth.size(); ++i) {
      wrong_squared += std::pow((*wrong)[i] - truth[i], 2);
    }
    EXPECT_GT(wrong_squared, 4 * squared);
  }
}

TEST(DdgEncodingTest, DecodedSumIsClippedSumPlusPlannedNoise) {
  CheckRoundTrip(8.0, 100, false);
  CheckRoundTrip(200.0, 1, true);
}

TEST(DdgEncodingTest, RejectsMismatchedDimensions) {
  DdgPlan plan;
  plan.bits = 16;
  plan.mechanism.clip = 1;
  plan.mechanism.gamma = 0.01;
  plan.mechanism.beta = 0.5;
  plan.mechanism.local_variance = 100;
  plan.mechanism.dim = 8;
  plan.mechanism.min_clients = 1;
  auto source = *SeededBitSourceForSimulation::FromSeed(42, "encoding_test");
  RandomDraws draws(source);
  EXPECT_TRUE(EncodeDdgUpdate(std::vector<double>(7, 0.1), plan, 1, draws).ok());
  EXPECT_FALSE(EncodeDdgUpdate(std::vector<double>(9, 0.1), plan, 1, draws).ok());
  EXPECT_FALSE(DecodeDdgSum(std::vector<uint64_t>(4), plan, 1, 7).ok());
  plan.bits = 70;
  EXPECT_FALSE(EncodeDdgUpdate(std::vector<double>(7, 0.1), plan, 1, draws).ok());
}

}  // namespace
}  // namespace tacit::privacy
