#include "privacy/hadamard_rotation.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {
namespace {

std::vector<double> RandomVector(RandomDraws& draws, size_t n) {
  std::vector<double> v(n);
  for (double& x : v) x = static_cast<double>(*draws.Word() >> 11) / (1ull << 53) * 2 - 1;
  return v;
}

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Property test over random sizes and seeds: the rotation keeps inner
// products (orthonormal), the inverse recovers the input, and rotations of
// different seeds differ.
TEST(HadamardRotationTest, OrthonormalAndInvertibleForRandomSizes) {
  auto source = *SeededBitSourceForSimulation::FromSeed(5, "rotation_test");
  RandomDraws draws(source);
  for (int trial = 0; trial < 40; ++trial) {
    const size_t dim = 1 + static_cast<size_t>(absl::Uint128Low64(*draws.UniformBelow(3000)));
    const uint64_t seed = *draws.Word();
    auto rotation = HadamardRotation::Create(dim, seed);
    ASSERT_TRUE(rotation.ok());
    size_t expected_padded = 1;
    while (expected_padded < dim) expected_padded *= 2;
    EXPECT_EQ(rotation->padded_dim(), expected_padded);

    const auto x = RandomVector(draws, dim), z = RandomVector(draws, dim);
    auto rx = rotation->Rotate(x), rz = rotation->Rotate(z);
    ASSERT_TRUE(rx.ok() && rz.ok());
    EXPECT_NEAR(Dot(*rx, *rx), Dot(x, x), 1e-9 * (1 + Dot(x, x)));
    EXPECT_NEAR(Dot(*rx, *rz), Dot(x, z), 1e-9 * (1 + Dot(x, x)));
    auto back = rotation->Inverse(*rx);
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(back->size(), dim);
    for (size_t i = 0; i < dim; ++i) ASSERT_NEAR((*back)[i], x[i], 1e-12) << i;

    // Same seed, same rotation; another seed, another one.
    auto again = HadamardRotation::Create(dim, seed)->Rotate(x);
    EXPECT_EQ(*again, *rx);
    if (dim > 8) {
      EXPECT_NE(*HadamardRotation::Create(dim, seed + 1)->Rotate(x), *rx);
    }
  }
}

// A spike e_1 is spread flat: every rotated coordinate has magnitude
// 1 / sqrt(P), which is what lets few bits per coordinate suffice.
TEST(HadamardRotationTest, SpreadsASpikeEvenly) {
  auto rotation = HadamardRotation::Create(1000, 9);
  ASSERT_TRUE(rotation.ok());
  std::vector<double> spike(1000, 0.0);
  spike[0] = 1;
  auto y = rotation->Rotate(spike);
  ASSERT_TRUE(y.ok());
  for (double v : *y) EXPECT_NEAR(std::fabs(v), 1 / std::sqrt(1024.0), 1e-15);
}

TEST(HadamardRotationTest, RejectsBadSizes) {
  EXPECT_FALSE(HadamardRotation::Create(0, 1).ok());
  auto rotation = HadamardRotation::Create(5, 1);
  ASSERT_TRUE(rotation.ok());
  EXPECT_FALSE(rotation->Rotate(std::vector<double>(4)).ok());
  EXPECT_FALSE(rotation->Inverse(std::vector<double>(5)).ok());
  std::vector<double> odd(6);
  EXPECT_FALSE(FastWalshHadamard(absl::MakeSpan(odd)).ok());
}

}  // namespace
}  // namespace tacit::privacy
