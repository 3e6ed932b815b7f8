// Ties the torch-free layout to the real LibTorch networks.
#include "models/internal/network.h"

#include <gtest/gtest.h>

#include <random>

#include "models/parameter_layout.h"
#include "models/training.h"
#include "tests/models/random_config.h"
#include "tests/models/scoped_head_precision.h"

namespace tacit {
namespace {

using testing::RandomConfig;

class NetworkTest : public ::testing::TestWithParam<std::string> {};

TEST_P(NetworkTest, LayoutOfMatchesTheTorchNetworkNamesShapesAndOrder) {
  std::mt19937_64 rng(21);
  for (int i = 0; i < 10; ++i) {
    ModelConfig c = RandomConfig(rng, GetParam());
    auto layout = LayoutOf(c);
    auto torch_shapes = TorchParameterShapes(c);
    ASSERT_TRUE(layout.ok() && torch_shapes.ok());
    ASSERT_EQ(layout->parameters.size(), torch_shapes->size());
    for (size_t j = 0; j < torch_shapes->size(); ++j) {
      EXPECT_EQ(layout->parameters[j].name, (*torch_shapes)[j].first);
      EXPECT_EQ(layout->parameters[j].shape, (*torch_shapes)[j].second);
    }
  }
}

TEST_P(NetworkTest, FlattenUnflattenRoundTripIsExact) {
  std::mt19937_64 rng(22);
  for (int i = 0; i < 5; ++i) {
    ModelConfig c = RandomConfig(rng, GetParam());
    auto network = internal::BuildNetwork(c);
    ASSERT_TRUE(network.ok());
    std::vector<float> flat(static_cast<size_t>(LayoutOf(c)->total_size));
    // Arbitrary bit patterns of finite floats, including denormals and -0.
    std::uniform_int_distribution<uint32_t> bits;
    for (float& x : flat) {
      do {
        uint32_t b = bits(rng);
        std::memcpy(&x, &b, sizeof(x));
      } while (!std::isfinite(x));
    }
    ASSERT_TRUE(internal::LoadFlat(**network, flat).ok());
    std::vector<float> back = internal::Flatten(**network);
    ASSERT_EQ(back.size(), flat.size());
    EXPECT_EQ(std::memcmp(back.data(), flat.data(), flat.size() * sizeof(float)), 0);
    flat.push_back(0.0f);
    EXPECT_FALSE(internal::LoadFlat(**network, flat).ok());
  }
}

TEST_P(NetworkTest, ForwardShapesAndCausality) {
  std::mt19937_64 rng(23);
  ModelConfig c = RandomConfig(rng, GetParam());
  c.window = 9;
  auto network = internal::BuildNetwork(c);
  ASSERT_TRUE(network.ok());
  ASSERT_TRUE(internal::LoadFlat(**network, *InitialParameters(c, 1)).ok());
  torch::NoGradGuard no_grad;
  auto tokens = torch::randint(1, c.vocab_size, {3, c.window}, torch::kLong);
  auto logits = (*network)->Head((*network)->Features(tokens));
  EXPECT_EQ(logits.sizes().vec(), (std::vector<int64_t>{3, c.window, c.vocab_size}));
  // Changing the last token must not change any earlier prediction.
  auto changed = tokens.clone();
  changed.select(1, c.window - 1)
      .fill_(1 + (tokens[0][c.window - 1].item<int64_t>() % (c.vocab_size - 1)));
  auto logits2 = (*network)->Head((*network)->Features(changed));
  EXPECT_TRUE(torch::equal(logits.slice(1, 0, c.window - 1), logits2.slice(1, 0, c.window - 1)));
}

// ||actual - expected|| <= tolerance * ||expected|| (+ a floor for tiny gradients).
::testing::AssertionResult CloseInNorm(const torch::Tensor& actual, const torch::Tensor& expected,
                                       double tolerance) {
  const double error = (actual - expected).norm().item<double>();
  const double size = expected.norm().item<double>();
  if (error <= tolerance * size + 1e-6) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "relative error " << error / size << " > " << tolerance;
}

TEST(ChunkedCrossEntropyTest, MatchesLibTorchLossAndGradients) {
  for (internal::HeadPrecision precision : testing::Precisions()) {
    testing::ScopedHeadPrecision scoped(precision);
    SCOPED_TRACE(testing::PrecisionName(precision));
    const double tolerance = testing::HeadTolerance(precision);
    std::mt19937_64 rng(31);
    for (int i = 0; i < 20; ++i) {
      // Widths up to 300 and vocabularies up to 600 reach the kernels' blocked paths.
      const int64_t rows = 1 + rng() % 300, width = 1 + rng() % (i < 10 ? 9 : 300),
                    vocab = 2 + rng() % (i < 10 ? 40 : 600);
      const int64_t chunk = 1 + rng() % 80;
      torch::manual_seed(static_cast<uint64_t>(i));
      // In fp32 every fifth case has logits hundreds apart: the target's
      // probability underflows in float and the loss must still be exact. (bf16
      // inputs round such logits by whole units: its cases stay at the scale
      // trained logits have.)
      const double spread =
          precision == internal::HeadPrecision::kFloat32 && i % 5 == 4 ? 60.0 : 1.0;
      auto input = (torch::randn({rows, width}) * spread).requires_grad_();
      auto weight = torch::randn({vocab, width}, torch::requires_grad());
      auto bias = torch::randn({vocab}, torch::requires_grad());
      auto targets = torch::randint(0, vocab, {rows}, torch::kLong);  // 0 = padding
      targets[0] = 1;                                                 // at least one real target
      auto reference = torch::nn::functional::cross_entropy(
          torch::addmm(bias, input, weight.t()), targets,
          torch::nn::functional::CrossEntropyFuncOptions().ignore_index(0));
      // Half the cases scale the loss: the gradient computed in forward must
      // take the incoming gradient into account, not assume the loss is the root.
      const double factor = i % 2 == 0 ? 1.0 : 0.25 + static_cast<double>(rng() % 100) / 10.0;
      auto expected = torch::autograd::grad({reference * factor}, {input, weight, bias});
      auto chunked = internal::ChunkedCrossEntropy(input, weight, bias, targets, chunk);
      auto actual = torch::autograd::grad({chunked * factor}, {input, weight, bias});
      EXPECT_NEAR(chunked.item<double>(), reference.item<double>(),
                  tolerance * std::max(1.0, std::abs(reference.item<double>())));
      {  // Evaluation: the same loss, always fp32, with no gradients wanted (none computed).
        torch::NoGradGuard no_grad;
        auto evaluated = internal::ChunkedCrossEntropy(input, weight, bias, targets, chunk);
        EXPECT_FALSE(evaluated.requires_grad());
        EXPECT_NEAR(evaluated.item<double>(), reference.item<double>(),
                    1e-5 * std::max(1.0, std::abs(reference.item<double>())));
      }
      for (size_t g = 0; g < 3; ++g) {
        if (precision == internal::HeadPrecision::kFloat32) {
          EXPECT_TRUE(torch::allclose(actual[g], expected[g], 1e-4, 1e-5)) << "gradient " << g;
        } else {
          EXPECT_TRUE(CloseInNorm(actual[g], expected[g], tolerance)) << "gradient " << g;
        }
      }
    }
  }
}

TEST(HeadPrecisionTest, ChosenByTheCpuUnlessForcedAndAnUnknownValueIsSaid) {
  using internal::ChooseHeadPrecision;
  using internal::HeadPrecision;
  for (const char* wanted : {"", "auto", "bf16"}) {
    SCOPED_TRACE(wanted);
    const auto native = ChooseHeadPrecision(wanted, true, "avx512_core_bf16");
    EXPECT_EQ(native.precision, HeadPrecision::kBfloat16);
    EXPECT_EQ(native.description, "bf16 inputs, fp32 accumulation (native: avx512_core_bf16)");
    EXPECT_EQ(ChooseHeadPrecision(wanted, false, "avx2").precision, HeadPrecision::kFloat32);
  }
  // bf16 is never emulated, and asking for it says so.
  EXPECT_NE(ChooseHeadPrecision("bf16", false, "avx2").description.find("would be emulated"),
            std::string::npos);
  const auto forced = ChooseHeadPrecision("fp32", true, "avx512_core_bf16");
  EXPECT_EQ(forced.precision, HeadPrecision::kFloat32);
  EXPECT_EQ(forced.description, "fp32 (TACIT_HEAD_PRECISION=fp32)");
  // A typo does not pass silently: the description (printed with every
  // training figure) names it, and the CPU decides.
  const auto typo = ChooseHeadPrecision("FP32", true, "avx512_core_bf16");
  EXPECT_EQ(typo.precision, HeadPrecision::kBfloat16);
  EXPECT_NE(typo.description.find("TACIT_HEAD_PRECISION='FP32' not understood"), std::string::npos)
      << typo.description;
}

INSTANTIATE_TEST_SUITE_P(Models, NetworkTest, ::testing::Values("gru", "transformer"));

TEST(BlasTest, DescribesTheLibraryInUse) {
  const std::string blas = BlasDescription();
  EXPECT_FALSE(blas.empty());
  std::printf("BLAS: %s\n", blas.c_str());
}

}  // namespace
}  // namespace tacit
