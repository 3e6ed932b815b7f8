// The output head's loss and its gradients in one pass over the logits.
//
// The head (rows x width -> rows x vocab, 4,096 words) is the largest product of a
// training step. Computing the loss's gradients while each chunk's logits are
// still in cache, instead of recomputing the logits in backward, leaves three
// matrix products per chunk (logits, grad_input, grad_weight) instead of four,
// and no [rows, vocab] tensor ever exists (32 MiB at batch 32 x 64 tokens).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "models/internal/dnnl_gemm.h"
#include "models/internal/network.h"

namespace tacit::internal {
namespace {

// Below this a float probability has lost relative precision (subnormal
// from 1.2e-38) or is 0; -log of it is then recomputed from the logits.
constexpr float kSmallestExactProbability = 1e-30f;

// log softmax(x W^T + b)[t] for one row, in double: the rare row whose
// target's probability underflowed in float.
double LogSoftmaxAt(const float* x, const float* w, const float* b, int64_t width, int64_t vocab,
                    int64_t t) {
  std::vector<double> logits(static_cast<size_t>(vocab));
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t v = 0; v < vocab; ++v) {
    double z = b[v];
    for (int64_t i = 0; i < width; ++i) z += static_cast<double>(x[i]) * w[v * width + i];
    logits[static_cast<size_t>(v)] = z;
    max = std::max(max, z);
  }
  double sum = 0.0;
  for (double z : logits) sum += std::exp(z - max);
  return logits[static_cast<size_t>(t)] - max - std::log(sum);
}

class ChunkedCrossEntropyFunction : public torch::autograd::Function<ChunkedCrossEntropyFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& targets, int64_t chunk_rows, bool want_grads) {
    torch::NoGradGuard no_grad;
    auto x_all = input.contiguous();  // a no-op for the rows the networks pass
    auto t_all = targets.to(torch::kLong).contiguous();
    auto w = weight.contiguous();
    auto b = bias.contiguous();
    TORCH_CHECK(x_all.scalar_type() == torch::kFloat && w.scalar_type() == torch::kFloat &&
                    b.scalar_type() == torch::kFloat,
                "the head's products run in float32");
    const int64_t rows = x_all.size(0), vocab = weight.size(0), width = x_all.size(1);
    const int64_t* target = t_all.data_ptr<int64_t>();
    const int64_t valid = std::count_if(target, target + rows, [](int64_t t) { return t != 0; });
    const double scale = 1.0 / static_cast<double>(std::max<int64_t>(valid, 1));

    torch::Tensor grad_input, grad_weight, grad_bias;
    if (want_grads) {
      grad_input = torch::empty_like(x_all);
      grad_weight = torch::zeros_like(weight);
      grad_bias = torch::zeros_like(bias);
    }
    auto logits_buffer = torch::empty({std::min(rows, chunk_rows), vocab}, x_all.options());
    // Training on a CPU with native bf16 products: the three products read
    // bf16 copies of x, W and each chunk's logits gradient (converted once)
    // and accumulate in fp32; the loss, softmax and every output stay fp32.
    const bool bf16 = want_grads && TrainingHeadPrecision() == HeadPrecision::kBfloat16;
    std::vector<uint16_t> x_bf16, w_bf16, g_bf16;
    if (bf16) {
      x_bf16.resize(static_cast<size_t>(std::min(rows, chunk_rows) * width));
      w_bf16.resize(static_cast<size_t>(vocab * width));
      g_bf16.resize(static_cast<size_t>(std::min(rows, chunk_rows) * vocab));
      ToBfloat16(w.data_ptr<float>(), vocab * width, w_bf16.data());
    }
    double total = 0.0;
    for (int64_t first = 0; first < rows; first += chunk_rows) {
      const int64_t last = std::min(rows, first + chunk_rows);
      const int64_t n = last - first;
      const float* x = x_all.data_ptr<float>() + first * width;
      auto log_probs = logits_buffer.slice(0, 0, n);
      // logits = x W^T + b
      if (bf16) {
        ToBfloat16(x, n * width, x_bf16.data());
        DnnlGemm(GemmShape(n, vocab, width).TransposedB().WithBias().Bfloat16Inputs(),
                 x_bf16.data(), w_bf16.data(), b.data_ptr<float>(), log_probs.data_ptr<float>());
      } else {
        DnnlGemm(GemmShape(n, vocab, width).TransposedB().WithBias(), x, w.data_ptr<float>(),
                 b.data_ptr<float>(), log_probs.data_ptr<float>());
      }
      float* p = log_probs.data_ptr<float>();
      if (!want_grads) {
        at::_log_softmax_out(log_probs, log_probs, 1, false);
        for (int64_t r = 0; r < n; ++r) {
          const int64_t t = target[first + r];
          if (t != 0) total -= p[r * vocab + t];
        }
        continue;
      }
      // Training: one exponential pass. The softmax is the gradient's
      // (softmax - onehot(target)) / valid, 0 for padding (the 1/valid is
      // applied once, after the last chunk); each row's loss is
      // -log(softmax[target]), recomputed exactly from the row's logits when
      // that underflows.
      at::_softmax_out(log_probs, log_probs, 1, false);
      for (int64_t r = 0; r < n; ++r) {
        const int64_t t = target[first + r];
        float* row = p + r * vocab;
        if (t == 0) {
          std::fill(row, row + vocab, 0.0f);
          continue;
        }
        total -= row[t] >= kSmallestExactProbability
                     ? std::log(row[t])
                     : LogSoftmaxAt(x + r * width, w.data_ptr<float>(), b.data_ptr<float>(), width,
                                    vocab, t);
        row[t] -= 1.0f;
      }
      // grad_x = G W; grad_W += G^T x (G: this chunk's logits gradient)
      float* grad_x = grad_input.data_ptr<float>() + first * width;
      if (bf16) {
        ToBfloat16(p, n * vocab, g_bf16.data());
        DnnlGemm(GemmShape(n, width, vocab).Bfloat16Inputs(), g_bf16.data(), w_bf16.data(), nullptr,
                 grad_x);
        DnnlGemm(GemmShape(vocab, width, n).TransposedA().Accumulating().Bfloat16Inputs(),
                 g_bf16.data(), x_bf16.data(), nullptr, grad_weight.data_ptr<float>());
      } else {
        DnnlGemm(GemmShape(n, width, vocab), p, w.data_ptr<float>(), nullptr, grad_x);
        DnnlGemm(GemmShape(vocab, width, n).TransposedA().Accumulating(), p, x, nullptr,
                 grad_weight.data_ptr<float>());
      }
      grad_bias.add_(log_probs.sum(0));
    }
    if (want_grads) {
      grad_input.mul_(scale);
      grad_weight.mul_(scale);
      grad_bias.mul_(scale);
      ctx->saved_data["grad_input"] = grad_input;
      ctx->saved_data["grad_weight"] = grad_weight;
      ctx->saved_data["grad_bias"] = grad_bias;
    }
    return torch::full({}, total * scale, x_all.options());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    // Moved out: the node must not keep a second reference to gradients the
    // size of the head's weight once they are handed to autograd.
    auto grad_input = std::move(ctx->saved_data["grad_input"]).toTensor();
    auto grad_weight = std::move(ctx->saved_data["grad_weight"]).toTensor();
    auto grad_bias = std::move(ctx->saved_data["grad_bias"]).toTensor();
    ctx->saved_data.clear();
    // The loss is the graph's root in training (grad_output 1): no copies then.
    const auto& g = grad_outputs[0];
    if (g.item<float>() != 1.0f) {
      grad_input = grad_input * g;
      grad_weight = grad_weight * g;
      grad_bias = grad_bias * g;
    }
    return {grad_input, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor ChunkedCrossEntropy(const torch::Tensor& input, const torch::Tensor& weight,
                                  const torch::Tensor& bias, const torch::Tensor& targets,
                                  int64_t chunk_rows) {
  // Gradients only when autograd will ask for them: forward runs with grad
  // mode off, so the caller's mode (evaluation under NoGradGuard) is read
  // here; computing them anyway would triple the head's cost in evaluation.
  const bool want_grads = torch::GradMode::is_enabled() &&
                          (input.requires_grad() || weight.requires_grad() || bias.requires_grad());
  return ChunkedCrossEntropyFunction::apply(input, weight, bias, targets, chunk_rows, want_grads);
}

}  // namespace tacit::internal
