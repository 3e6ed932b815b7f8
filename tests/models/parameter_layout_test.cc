#include "models/parameter_layout.h"
#include "tests/models/random_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "models/flat_vector.h"

namespace tacit {
namespace {

using testing::RandomConfig;

TEST(ParameterLayoutTest, ReferenceModelsAreInTheIssuesSizeRange) {
  auto gru = LayoutOf(DefaultGruConfig());
  ASSERT_TRUE(gru.ok());
  // The PyTorch reference GRU: 1.56 M parameters.
  EXPECT_EQ(gru->total_size, 1562112);
  auto transformer = LayoutOf(DefaultTransformerConfig());
  ASSERT_TRUE(transformer.ok());
  EXPECT_GE(transformer->total_size, 300000);
  EXPECT_LE(transformer->total_size, 4000000);
}

TEST(ParameterLayoutTest, OffsetsAreContiguousAndHashIsHex) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    auto layout = LayoutOf(RandomConfig(rng, rng() % 2 ? "gru" : "transformer"));
    ASSERT_TRUE(layout.ok());
    int64_t offset = 0;
    for (const auto& p : layout->parameters) {
      EXPECT_EQ(p.offset, offset) << p.name;
      offset += p.size;
    }
    EXPECT_EQ(offset, layout->total_size);
    EXPECT_EQ(layout->hash.size(), 16u);
    EXPECT_EQ(layout->hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
}

TEST(ParameterLayoutTest, HashChangesWithTheArchitectureOnly) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100; ++i) {
    ModelConfig base = RandomConfig(rng, rng() % 2 ? "gru" : "transformer");
    const std::string hash = LayoutOf(base)->hash;
    EXPECT_EQ(LayoutOf(base)->hash, hash) << "the hash must be stable";
    ModelConfig c = base;
    c.hidden_dim += 1;
    EXPECT_NE(LayoutOf(c)->hash, hash);
    c = base;
    c.layers = base.layers % 3 + 1;
    EXPECT_NE(LayoutOf(c)->hash, hash);
    c = base;
    c.vocab_size += 1;
    EXPECT_NE(LayoutOf(c)->hash, hash);
    c = base;
    c.embedding_dim += c.heads;
    EXPECT_NE(LayoutOf(c)->hash, hash);
    c = base;
    c.name = base.name == "gru" ? "transformer" : "gru";
    EXPECT_NE(LayoutOf(c)->hash, hash);
  }
}

TEST(ParameterLayoutTest, InitialParametersAreDeterministicPerSeed) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    ModelConfig c = RandomConfig(rng, rng() % 2 ? "gru" : "transformer");
    const uint64_t seed = rng();
    auto a = InitialParameters(c, seed);
    auto b = InitialParameters(c, seed);
    auto other = InitialParameters(c, seed + 1);
    ASSERT_TRUE(a.ok() && b.ok() && other.ok());
    EXPECT_EQ(*a, *b);
    EXPECT_NE(*a, *other);
    EXPECT_EQ(static_cast<int64_t>(a->size()), LayoutOf(c)->total_size);
  }
}

TEST(ParameterLayoutTest, InitialParametersFollowTheirInitKinds) {
  ModelConfig c = DefaultTransformerConfig();
  auto layout = LayoutOf(c);
  auto params = InitialParameters(c, 42);
  ASSERT_TRUE(params.ok());
  for (const auto& p : layout->parameters) {
    const float* data = params->data() + p.offset;
    if (p.zero_first_row) {
      for (int64_t j = 0; j < p.shape[1]; ++j) EXPECT_EQ(data[j], 0.0f) << p.name;
    }
    for (int64_t j = p.zero_first_row ? p.shape[1] : 0; j < p.size; ++j) {
      switch (p.init) {
        case ParameterSpec::Init::kUniform:
          ASSERT_LE(std::abs(data[j]), p.init_scale) << p.name;
          break;
        case ParameterSpec::Init::kOnes:
          ASSERT_EQ(data[j], 1.0f) << p.name;
          break;
        case ParameterSpec::Init::kZeros:
          ASSERT_EQ(data[j], 0.0f) << p.name;
          break;
        case ParameterSpec::Init::kNormal:
          ASSERT_LE(std::abs(data[j]), 7 * p.init_scale) << p.name;
          break;
      }
    }
  }
}

TEST(ClipL2Test, ClipsToTheBoundAndKeepsTheDirection) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::vector<float> v(1 + rng() % 5000);
    std::normal_distribution<float> normal(0.0f, std::exp(static_cast<float>(rng() % 10) - 5));
    for (float& x : v) x = normal(rng);
    const std::vector<float> original = v;
    const double norm = L2Norm(v);
    const double bound = norm * std::uniform_real_distribution<double>(0.01, 2.0)(rng);
    EXPECT_DOUBLE_EQ(ClipL2(v, bound), norm);
    if (norm <= bound) {
      EXPECT_EQ(v, original);
      continue;
    }
    EXPECT_LE(L2Norm(v), bound);
    EXPECT_NEAR(L2Norm(v), bound, bound * 1e-5);
    const double scale = bound / norm;
    for (size_t j = 0; j < v.size(); ++j) {
      ASSERT_NEAR(v[j], original[j] * scale, 1e-5 * std::abs(original[j]) + 1e-30);
    }
  }
}

TEST(ClipL2Test, NonPositiveBoundMeansNoClipping) {
  std::vector<float> v = {3.0f, 4.0f};
  EXPECT_DOUBLE_EQ(ClipL2(v, 0.0), 5.0);
  EXPECT_EQ(v, (std::vector<float>{3.0f, 4.0f}));
}

}  // namespace
}  // namespace tacit
