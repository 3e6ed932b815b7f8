#pragma once

// PRIVATE to models/: included only by models/*.cc, never by a public header,
// so nothing outside tacit_models compiles against LibTorch.

#include <torch/autograd.h>
#include <torch/nn.h>

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/model_config.h"

namespace tacit::internal {

// A next-event model: tokens [batch, time] (int64) -> logits [batch, time,
// vocab] where position t predicts the token at t + 1. Parameters are
// registered in exactly the order of LayoutOf(config).
class NextEventNetwork : public torch::nn::Module {
 public:
  // Per-position representation [batch, time, width] before the head.
  virtual torch::Tensor Features(const torch::Tensor& tokens) = 0;
  torch::Tensor Head(const torch::Tensor& features) { return output_->forward(features); }
  // Mean cross-entropy of Head(features) against `targets` (same leading
  // shape; target 0 = padding, ignored), without materializing the logits:
  // see ChunkedCrossEntropy.
  torch::Tensor Loss(const torch::Tensor& features, const torch::Tensor& targets);

 protected:
  torch::nn::Linear output_{nullptr};
};

// Mean cross-entropy of the linear head `input @ weight^T + bias` ([rows,
// width] -> [rows, vocab]) against `targets` [rows], ignoring target 0,
// computed `chunk_rows` rows at a time. When a gradient is wanted, the forward
// computes it from each chunk's logits while they are in cache (the backward
// only hands it over): three products per chunk instead of four, and memory
// O(chunk_rows * vocab) instead of several [rows, vocab] tensors (32 MiB each at
// batch 32 x 64 tokens x 4,096 words).
torch::Tensor ChunkedCrossEntropy(const torch::Tensor& input, const torch::Tensor& weight,
                                  const torch::Tensor& bias, const torch::Tensor& targets,
                                  int64_t chunk_rows = 256);

absl::StatusOr<std::shared_ptr<NextEventNetwork>> BuildNetwork(const ModelConfig& config);

// Copies a flat vector (ParameterLayout order) into the network's parameters,
// and back. InvalidArgument when the size differs from the network's.
absl::Status LoadFlat(NextEventNetwork& network, const std::vector<float>& flat);
std::vector<float> Flatten(NextEventNetwork& network);

// Sets the intra-op thread count of the calling thread (LibTorch here uses
// OpenMP, whose thread count is a per-thread setting) and, once per process,
// makes BLAS run in the calling thread and tunes malloc for large tensors
// (see docs/model.md, "Threads and memory").
void UseThreadsInThisThread(int threads);

}  // namespace tacit::internal
