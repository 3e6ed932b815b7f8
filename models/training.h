#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/model_config.h"

namespace tacit {

// Local training of a model on one person's tokens (library tacit_models,
// LibTorch inside, plain C++ here).
//
// Thread safety: TrainLocally and Evaluate may run concurrently from many
// threads. Each call builds its own network and optimizer; shuffling uses a
// call-local std::mt19937_64 seeded from `seed`; initial weights come from
// the flat vector, never from LibTorch's global generator; no dropout. The
// intra-op thread count is set for the calling thread only (see
// docs/model.md, "Threads").
// The end of one epoch, for callers that report progress per epoch (the
// central reference). `parameters` is the model after the epoch, flat layout.
struct EpochEnd {
  int epoch = 0;            // 1-based
  double train_loss = 0.0;  // mean over the epoch's steps
  int steps = 0;            // optimizer steps so far
  std::vector<float> parameters;
};

struct TrainOptions {
  int epochs = 1;
  int max_steps = 0;    // stop after this many optimizer steps; 0 = no limit
  int batch_size = 16;  // windows per step; 16 keeps a GRU round under 200 MiB
  double lr = 0.002;
  std::string optimizer = "adam";    // "adam" | "sgd"
  double fedprox_mu = 0.0;           // FedProx proximal term mu/2 * |w - w_global|^2; 0 = off
  double wall_clock_budget_s = 0.0;  // stop after the step that exceeds it; 0 = none
  int threads = 1;                   // intra-op threads for this call
  uint64_t seed = 1;
  int stride = 0;  // training window stride in tokens; 0 = the config's window
  // Called after every epoch when set; a non-OK status stops training and is
  // returned. Optimizer state carries across epochs as without it.
  std::function<absl::Status(const EpochEnd&)> on_epoch_end;

  absl::Status Validate() const;
};

struct LocalUpdate {
  std::vector<float> delta;  // local weights - global weights, flat layout
  int64_t examples = 0;      // tokens predicted per epoch: train tokens after the first
  double train_loss = 0.0;   // mean cross-entropy over the last epoch's steps
  int steps = 0;             // optimizer steps taken
  double seconds = 0.0;      // wall-clock time of the call
};

// Trains from `global` on windows of `train_tokens` (every position predicted)
// and returns the update. InvalidArgument for an invalid config or options,
// a `global` whose size differs from the layout, or fewer than 2 tokens.
absl::StatusOr<LocalUpdate> TrainLocally(const ModelConfig& config,
                                         const std::vector<float>& global,
                                         const std::vector<int32_t>& train_tokens,
                                         const TrainOptions& options);

// The same over several independent streams (windows never cross streams), for
// the central reference trained on many persons pooled.
absl::StatusOr<LocalUpdate> TrainOnStreams(const ModelConfig& config,
                                           const std::vector<float>& global,
                                           const std::vector<std::vector<int32_t>>& streams,
                                           const TrainOptions& options);

// The parameter layout as LibTorch builds it (names, shapes, order), for tests
// that prove LayoutOf matches the real network.
absl::StatusOr<std::vector<std::pair<std::string, std::vector<int64_t>>>> TorchParameterShapes(
    const ModelConfig& config);

// BLAS threads, process-wide. The first training or evaluation call makes BLAS
// single-threaded (each client thread runs its own products; see
// docs/model.md); a process that trains one big model at a time (the central
// reference) may raise it afterwards or before. No effect without OpenBLAS.
void SetBlasThreads(int threads);

// Which BLAS library LibTorch's matrix products run on (e.g. "OpenBLAS 0.3.21
// ..." or "reference BLAS (libblas.so.3)"), found at run time.
std::string BlasDescription();

// The training head's products in fp32 for the rest of the process, even on
// a CPU with native bf16 products (as TACIT_HEAD_PRECISION=fp32 at start):
// for a benchmark that measures both. See models/internal/dnnl_gemm.h.
void UseFp32HeadProducts();

// The OpenBLAS kernel set in use, e.g. "core Cooperlake (detected)" or "core
// Haswell (OPENBLAS_CORETYPE=Haswell); this CPU runs the faster Cooperlake
// kernels: unset OPENBLAS_CORETYPE" (see models/blas_kernels.h).
std::string BlasCoreDescription();

}  // namespace tacit
