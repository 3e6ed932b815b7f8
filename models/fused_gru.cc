#include "models/internal/fused_gru.h"

#include <ATen/ATen.h>

#include "models/internal/dnnl_gemm.h"
#include "models/internal/scratch.h"

namespace tacit::internal {
namespace {

// The forward pass. With `gates` ([T, B, 3H]) and `hidden_n` ([T, B, H])
// defined, every step's r|z|n and the n block of W_hh h + b_hh (the only
// block of it the backward reads) are kept there for the backward; otherwise
// one step's worth of scratch is reused.
torch::Tensor GruForward(const torch::Tensor& x, const torch::Tensor& w_ih,
                         const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                         const torch::Tensor& b_hh, torch::Tensor* gates, torch::Tensor* hidden_n) {
  const int64_t steps = x.size(0), batch = x.size(1), h = w_hh.size(1);
  const bool save = gates != nullptr;
  TORCH_CHECK(w_hh.is_contiguous() && b_hh.is_contiguous() && w_hh.scalar_type() == torch::kFloat,
              "the GRU's recurrent products run on contiguous float32 weights");
  // Input contributions of every step in one product: [T * B, 3H].
  auto input_gates = ScratchTensor(Scratch::kGruInputGates, {steps * batch, 3 * h});
  at::addmm_out(input_gates, b_ih, x.reshape({steps * batch, x.size(2)}), w_ih.t());
  input_gates = input_gates.view({steps, batch, 3 * h});
  auto out = torch::empty({steps, batch, h}, x.options());
  auto scratch_gates = torch::empty({save ? steps : 1, batch, 3 * h}, x.options());
  auto gh = torch::empty({batch, 3 * h}, x.options());
  auto saved_hidden_n = save ? torch::empty({steps, batch, h}, x.options()) : torch::Tensor();
  auto h_prev = torch::zeros({batch, h}, x.options());
  for (int64_t t = 0; t < steps; ++t) {
    auto gi = input_gates[t];
    auto g = scratch_gates[save ? t : 0];
    // gh = h_prev W_hh^T + b_hh: 3H outputs per row, the per-step product
    DnnlGemm(GemmShape(batch, 3 * h, h).TransposedB().WithBias(), h_prev.data_ptr<float>(),
             w_hh.data_ptr<float>(), b_hh.data_ptr<float>(), gh.data_ptr<float>());
    auto rz = g.narrow(1, 0, 2 * h);
    at::add_out(rz, gi.narrow(1, 0, 2 * h), gh.narrow(1, 0, 2 * h));
    rz.sigmoid_();
    auto r = g.narrow(1, 0, h), z = g.narrow(1, h, h), n = g.narrow(1, 2 * h, h);
    at::addcmul_out(n, gi.narrow(1, 2 * h, h), r, gh.narrow(1, 2 * h, h));
    n.tanh_();
    if (save) saved_hidden_n[t].copy_(gh.narrow(1, 2 * h, h));
    // h_t = (1 - z) * n + z * h_prev = n + z * (h_prev - n)
    auto h_t = out[t];
    at::sub_out(h_t, h_prev, n);
    h_t.mul_(z).add_(n);
    h_prev = h_t;
  }
  if (save) {
    *gates = scratch_gates;
    *hidden_n = saved_hidden_n;
  }
  return out;
}

class FusedGruFunction : public torch::autograd::Function<FusedGruFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                               const torch::Tensor& b_ih, const torch::Tensor& b_hh) {
    torch::NoGradGuard no_grad;
    auto x_c = x.contiguous();
    torch::Tensor gates, hidden_n;
    auto out = GruForward(x_c, w_ih, w_hh, b_ih, b_hh, &gates, &hidden_n);
    ctx->save_for_backward({x_c, w_ih, w_hh});
    // Detached aliases: storing `out` itself would make it hold its own grad_fn.
    ctx->saved_data["out"] = out.detach();
    ctx->saved_data["gates"] = gates;
    ctx->saved_data["hidden_n"] = hidden_n;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    torch::NoGradGuard no_grad;
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w_ih = saved[1];
    const auto& w_hh = saved[2];
    auto out = ctx->saved_data["out"].toTensor();
    auto gates = ctx->saved_data["gates"].toTensor();
    auto hidden_n = ctx->saved_data["hidden_n"].toTensor();
    auto grad_out = grad_outputs[0].contiguous();
    const int64_t steps = x.size(0), batch = x.size(1), h = w_hh.size(1);

    // d loss / d (pre-activation gates), input side and hidden side; they
    // differ only in the n gate (the hidden side's is scaled by r).
    auto d_input_gates = ScratchTensor(Scratch::kGruInputGateGrads, {steps, batch, 3 * h});
    auto d_hidden_gates = ScratchTensor(Scratch::kGruHiddenGateGrads, {steps, batch, 3 * h});
    auto dh = torch::zeros({batch, h}, x.options());
    float* dh_p = dh.data_ptr<float>();
    for (int64_t t = steps - 1; t >= 0; --t) {
      const float* go = grad_out[t].data_ptr<float>();
      const float* g = gates[t].data_ptr<float>();
      const float* ghn = hidden_n[t].data_ptr<float>();
      const float* hp = t > 0 ? out[t - 1].data_ptr<float>() : nullptr;
      float* dgi = d_input_gates[t].data_ptr<float>();
      float* dgh = d_hidden_gates[t].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t row = b * 3 * h;
        for (int64_t j = 0; j < h; ++j) {
          const int64_t i = b * h + j;
          const float d = dh_p[i] + go[i];
          const float r = g[row + j], z = g[row + h + j], n = g[row + 2 * h + j];
          const float prev = hp != nullptr ? hp[i] : 0.0f;
          const float dn = d * (1.0f - z) * (1.0f - n * n);
          const float dz = d * (prev - n) * z * (1.0f - z);
          const float dr = dn * ghn[i] * r * (1.0f - r);
          dgi[row + j] = dgh[row + j] = dr;
          dgi[row + h + j] = dgh[row + h + j] = dz;
          dgi[row + 2 * h + j] = dn;
          dgh[row + 2 * h + j] = dn * r;
          dh_p[i] = d * z;
        }
      }
      // dh += d_hidden_gates[t] W_hh
      DnnlGemm(GemmShape(batch, h, 3 * h).Accumulating(), d_hidden_gates[t].data_ptr<float>(),
               w_hh.data_ptr<float>(), nullptr, dh_p);
    }
    auto dgi_rows = d_input_gates.view({steps * batch, 3 * h});
    auto dgh_rows = d_hidden_gates.view({steps * batch, 3 * h});
    // The first step's hidden-side products see h_0 = 0: no weight gradient.
    auto grad_w_hh = steps > 1
                         ? d_hidden_gates.slice(0, 1, steps)
                               .reshape({(steps - 1) * batch, 3 * h})
                               .t()
                               .mm(out.slice(0, 0, steps - 1).reshape({(steps - 1) * batch, h}))
                         : torch::zeros_like(w_hh);
    auto grad_w_ih = dgi_rows.t().mm(x.reshape({steps * batch, x.size(2)}));
    auto grad_x = dgi_rows.mm(w_ih).view(x.sizes());
    return {grad_x, grad_w_ih, grad_w_hh, dgi_rows.sum(0), dgh_rows.sum(0)};
  }
};

}  // namespace

torch::Tensor FusedGruLayer(const torch::Tensor& x, const torch::Tensor& w_ih,
                            const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                            const torch::Tensor& b_hh) {
  const bool want_grads = torch::GradMode::is_enabled() &&
                          (x.requires_grad() || w_ih.requires_grad() || w_hh.requires_grad() ||
                           b_ih.requires_grad() || b_hh.requires_grad());
  if (!want_grads) {
    torch::NoGradGuard no_grad;
    return GruForward(x.contiguous(), w_ih, w_hh, b_ih, b_hh, nullptr, nullptr);
  }
  return FusedGruFunction::apply(x, w_ih, w_hh, b_ih, b_hh);
}

}  // namespace tacit::internal
