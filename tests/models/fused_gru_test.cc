#include "models/internal/fused_gru.h"

#include <gtest/gtest.h>
#include <torch/nn.h>

#include <random>

#include "models/internal/network.h"
#include "models/parameter_layout.h"
#include "tests/models/scoped_head_precision.h"

namespace tacit {
namespace {

// The hand-written layer against LibTorch's GRU on random sizes and weights:
// the same states, and the same gradients for the input and all four
// parameters under a random upstream gradient.
TEST(FusedGruTest, MatchesLibTorchGruAndItsGradients) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 12; ++i) {
    const int64_t steps = 1 + rng() % 9, batch = 1 + rng() % 5;
    const int64_t in = 1 + rng() % 7, hidden = 1 + rng() % 11;
    torch::manual_seed(static_cast<uint64_t>(100 + i));
    torch::nn::GRU reference(torch::nn::GRUOptions(in, hidden));  // time-major
    auto x = torch::randn({steps, batch, in}, torch::requires_grad());
    auto upstream = torch::randn({steps, batch, hidden});
    const auto& p = reference->named_parameters();
    std::vector<torch::Tensor> wrt = {x, p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"],
                                      p["bias_hh_l0"]};
    auto expected = std::get<0>(reference->forward(x));
    auto expected_grads = torch::autograd::grad({(expected * upstream).sum()}, wrt);
    auto actual = internal::FusedGruLayer(x, wrt[1], wrt[2], wrt[3], wrt[4]);
    auto actual_grads = torch::autograd::grad({(actual * upstream).sum()}, wrt);
    ASSERT_EQ(actual.sizes(), expected.sizes());
    EXPECT_TRUE(torch::allclose(actual, expected, 1e-5, 1e-6)) << "case " << i;
    for (size_t g = 0; g < wrt.size(); ++g) {
      EXPECT_TRUE(torch::allclose(actual_grads[g], expected_grads[g], 1e-4, 1e-5))
          << "case " << i << " gradient " << g;
    }
    // Without autograd (evaluation) the states are the same.
    torch::InferenceMode inference;
    auto plain = internal::FusedGruLayer(x.detach(), wrt[1].detach(), wrt[2].detach(),
                                         wrt[3].detach(), wrt[4].detach());
    EXPECT_TRUE(torch::equal(plain, actual.detach())) << "case " << i;
  }
}

// The training step's loss (fused GRU, time-major rows, fused cross-entropy)
// against the reference step (LibTorch's GRU and cross-entropy on the same
// weights) for the default GRU on a fixed seed: same loss, same gradients.
TEST(FusedGruTest, LeanStepGivesTheReferenceLossAndGradients) {
  for (internal::HeadPrecision precision : testing::Precisions()) {
    testing::ScopedHeadPrecision scoped(precision);
    SCOPED_TRACE(testing::PrecisionName(precision));
    const double tolerance = testing::HeadTolerance(precision);
    ModelConfig config = DefaultGruConfig();
    config.vocab_size = 512;
    auto network = internal::BuildNetwork(config);
    ASSERT_TRUE(network.ok());
    ASSERT_TRUE(internal::LoadFlat(**network, *InitialParameters(config, 3)).ok());
    torch::manual_seed(9);
    auto tokens = torch::randint(0, config.vocab_size, {4, config.window + 1}, torch::kLong);
    auto inputs = tokens.slice(1, 0, config.window);
    auto targets = tokens.slice(1, 1, config.window + 1);
    auto params = (*network)->parameters();

    auto lean = (*network)->Loss((*network)->Features(inputs), targets);
    auto lean_grads = torch::autograd::grad({lean}, params);

    auto modules = (*network)->named_children();
    auto embedding = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(modules["embedding"]);
    auto gru = std::dynamic_pointer_cast<torch::nn::GRUImpl>(modules["gru"]);
    auto output = std::dynamic_pointer_cast<torch::nn::LinearImpl>(modules["output"]);
    ASSERT_TRUE(embedding && gru && output);
    auto logits = output->forward(std::get<0>(gru->forward(embedding->forward(inputs))));
    auto reference = torch::nn::functional::cross_entropy(
        logits.reshape({-1, config.vocab_size}), targets.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(0));
    auto reference_grads = torch::autograd::grad({reference}, params);

    EXPECT_NEAR(lean.item<double>(), reference.item<double>(),
                precision == internal::HeadPrecision::kFloat32
                    ? 1e-5
                    : tolerance * reference.item<double>());
    for (size_t g = 0; g < params.size(); ++g) {
      if (precision == internal::HeadPrecision::kFloat32) {
        EXPECT_TRUE(torch::allclose(lean_grads[g], reference_grads[g], 1e-4, 1e-6))
            << "parameter " << g;
      } else {
        const double error = (lean_grads[g] - reference_grads[g]).norm().item<double>();
        EXPECT_LE(error, tolerance * reference_grads[g].norm().item<double>() + 1e-6)
            << "parameter " << g;
      }
    }
  }
}

}  // namespace
}  // namespace tacit
