#pragma once

// PRIVATE to models/ (LibTorch inside).

#include <torch/types.h>

namespace tacit::internal {

// One GRU layer (PyTorch's equations and parameter shapes: gates r, z, n;
// w_ih [3H, I], w_hh [3H, H], b_ih and b_hh [3H]; initial state 0) over a
// time-major sequence `x` [T, B, I]; returns every step's state [T, B, H],
// contiguous and time-major.
//
// Same result as torch::nn::GRU up to float rounding, with a hand-written
// backward: LibTorch's CPU GRU records about a dozen autograd nodes per time
// step and multiplies the weight gradients step by step; here a step is one
// small product and a few vectorized element-wise passes, and the weight
// gradients are two large products after the loop. When no gradient is
// wanted (evaluation, InferenceMode), nothing is saved for a backward.
torch::Tensor FusedGruLayer(const torch::Tensor& x, const torch::Tensor& w_ih,
                            const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                            const torch::Tensor& b_hh);

}  // namespace tacit::internal
