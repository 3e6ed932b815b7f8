#include <cmath>
#include <vector>

#include "common/dp_noise.h"
#include "gtest/gtest.h"

namespace tacit::coordinator {
namespace {

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
