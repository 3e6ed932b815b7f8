// The output head's loss and its gradients in one pass over the logits.
//
// The head (rows x width -> rows x vocab, 4,096 words) is the largest product of a
// training step. Computing the loss's gradients while each chunk's logits are
// still in cache, instead of recomputing the logits in backward, leaves three
// matrix products per chunk (logits, grad_input, grad_weight) instead of four,
// and no [rows, vocab] tensor ever exists (32 MiB at batch 32 x 64 tokens).
#include <ATen/ATen.h>

#include <algorithm>
#include <utility>

#include "models/internal/network.h"

namespace tacit::internal {
namespace {

class ChunkedCrossEntropyFunction : public torch::autograd::Function<ChunkedCrossEntropyFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& targets, int64_t chunk_rows, bool want_grads) {
    torch::NoGradGuard no_grad;
    auto x_all = input.contiguous();  // a no-op for the rows the networks pass
    auto t_all = targets.to(torch::kLong).contiguous();
    const int64_t rows = x_all.size(0), vocab = weight.size(0);
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
    double total = 0.0;
    for (int64_t first = 0; first < rows; first += chunk_rows) {
      const int64_t last = std::min(rows, first + chunk_rows);
      auto x = x_all.slice(0, first, last);
      auto log_probs = logits_buffer.slice(0, 0, last - first);
      at::addmm_out(log_probs, bias, x, weight.t());
      at::_log_softmax_out(log_probs, log_probs, 1, false);
      float* p = log_probs.data_ptr<float>();
      for (int64_t r = 0; r < last - first; ++r) {
        const int64_t t = target[first + r];
        if (t != 0) total -= p[r * vocab + t];
      }
      if (!want_grads) continue;
      // d(mean nll)/d logits = (softmax - onehot(target)) / valid, 0 for padding;
      // the 1/valid is folded into the products below.
      log_probs.exp_();
      for (int64_t r = 0; r < last - first; ++r) {
        const int64_t t = target[first + r];
        if (t != 0) {
          p[r * vocab + t] -= 1.0f;
        } else {
          std::fill(p + r * vocab, p + (r + 1) * vocab, 0.0f);
        }
      }
      auto grad_x = grad_input.slice(0, first, last);
      at::mm_out(grad_x, log_probs, weight);
      grad_x.mul_(scale);
      grad_weight.addmm_(log_probs.t(), x, 1.0, scale);
      grad_bias.add_(log_probs.sum(0), scale);
    }
    if (want_grads) {
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
