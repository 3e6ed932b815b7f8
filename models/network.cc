#include "models/internal/network.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/blas_info.h"
#include "models/blas_kernels.h"
#include "models/internal/dnnl_gemm.h"
#include "models/internal/fused_gru.h"
#include "models/parameter_layout.h"
#include "models/training.h"

namespace tacit::internal {
namespace {

class GruNetwork : public NextEventNetwork {
 public:
  explicit GruNetwork(const ModelConfig& c) : layers_(c.layers) {
    embedding_ = register_module(
        "embedding",
        torch::nn::Embedding(
            torch::nn::EmbeddingOptions(c.vocab_size, c.embedding_dim).padding_idx(0)));
    gru_ =
        register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(c.embedding_dim, c.hidden_dim)
                                                  .num_layers(c.layers)
                                                  .batch_first(true)));
    output_ = register_module("output", torch::nn::Linear(c.hidden_dim, c.vocab_size));
  }
  // Time-major inside ([T, B, ...]: each step's rows are contiguous), returned
  // as a [B, T, H] view; Loss reads the rows in storage order without a copy.
  torch::Tensor Features(const torch::Tensor& tokens) override {
    auto x = embedding_->forward(tokens.t());
    const auto& params = gru_->named_parameters();
    for (int64_t l = 0; l < layers_; ++l) {
      const std::string k = std::to_string(l);
      x = FusedGruLayer(x, params["weight_ih_l" + k], params["weight_hh_l" + k],
                        params["bias_ih_l" + k], params["bias_hh_l" + k]);
    }
    return x.transpose(0, 1);
  }

 private:
  int64_t layers_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::GRU gru_{nullptr};
};

// Pre-norm causal self-attention block.
class TransformerBlock : public torch::nn::Module {
 public:
  TransformerBlock(int64_t width, int64_t hidden, int64_t heads) : heads_(heads) {
    norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
    qkv_ = register_module("qkv", torch::nn::Linear(width, 3 * width));
    proj_ = register_module("proj", torch::nn::Linear(width, width));
    norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
    mlp_in_ = register_module("mlp_in", torch::nn::Linear(width, hidden));
    mlp_out_ = register_module("mlp_out", torch::nn::Linear(hidden, width));
  }
  torch::Tensor Forward(const torch::Tensor& x, const torch::Tensor& causal_mask) {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2), dh = d / heads_;
    // [b, t, 3d] -> 3 x [b, heads, t, dh]
    auto qkv =
        qkv_->forward(norm1_->forward(x)).view({b, t, 3, heads_, dh}).permute({2, 0, 3, 1, 4});
    auto scores =
        torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
    scores = scores.masked_fill(causal_mask, -std::numeric_limits<float>::infinity());
    auto attended = torch::matmul(torch::softmax(scores, -1), qkv[2]);
    auto h = x + proj_->forward(attended.transpose(1, 2).reshape({b, t, d}));
    return h + mlp_out_->forward(torch::gelu(mlp_in_->forward(norm2_->forward(h))));
  }

 private:
  int64_t heads_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, mlp_in_{nullptr}, mlp_out_{nullptr};
};

class TransformerNetwork : public NextEventNetwork {
 public:
  explicit TransformerNetwork(const ModelConfig& c) {
    token_embedding_ = register_module(
        "token_embedding",
        torch::nn::Embedding(
            torch::nn::EmbeddingOptions(c.vocab_size, c.embedding_dim).padding_idx(0)));
    position_embedding_ =
        register_module("position_embedding", torch::nn::Embedding(c.window, c.embedding_dim));
    blocks_ = register_module("blocks", torch::nn::ModuleList());
    for (int l = 0; l < c.layers; ++l) {
      auto block = std::make_shared<TransformerBlock>(c.embedding_dim, c.hidden_dim, c.heads);
      blocks_->push_back(block);
      block_ptrs_.push_back(block);
    }
    final_norm_ = register_module(
        "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embedding_dim})));
    output_ = register_module("output", torch::nn::Linear(c.embedding_dim, c.vocab_size));
  }
  torch::Tensor Features(const torch::Tensor& tokens) override {
    const int64_t t = tokens.size(1);
    auto positions = torch::arange(t, torch::kLong);
    auto x = token_embedding_->forward(tokens) + position_embedding_->forward(positions);
    auto mask = torch::ones({t, t}, torch::kBool).triu(1);  // true = future, hidden
    for (auto& block : block_ptrs_) x = block->Forward(x, mask);
    return final_norm_->forward(x);
  }

 private:
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<std::shared_ptr<TransformerBlock>> block_ptrs_;
  torch::nn::LayerNorm final_norm_{nullptr};
};

// Process-wide, once:
// - BLAS runs in the calling thread, so concurrent clients never contend for
//   one BLAS thread pool (OPENBLAS_NUM_THREADS overrides).
// - glibc malloc keeps big blocks (up to 256 MiB) on its heaps instead of
//   mmap/munmap'ing them: a training step allocates and frees several 32 MiB
//   logit-sized tensors, and faulting their pages in afresh every step made
//   training about 3x slower on this machine. The memory is reused by the
//   next step, so the peak is unchanged. MALLOC_MMAP_THRESHOLD_ overrides.
void ConfigureProcessOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
      mallopt(M_MMAP_THRESHOLD, 256 << 20);
      mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
    if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
      set(1);
    }
  });
}

}  // namespace

torch::Tensor NextEventNetwork::Loss(const torch::Tensor& features, const torch::Tensor& targets) {
  // The loss is a mean over positions, so any row order serves if features and
  // targets share it: time-major features are read as stored, not copied.
  const bool time_major = !features.is_contiguous() && features.transpose(0, 1).is_contiguous();
  const auto& f = time_major ? features.transpose(0, 1) : features;
  const auto& t = time_major ? targets.transpose(0, 1) : targets;
  return ChunkedCrossEntropy(f.reshape({-1, f.size(-1)}), output_->weight, output_->bias,
                             t.reshape({-1}));
}

absl::StatusOr<std::shared_ptr<NextEventNetwork>> BuildNetwork(const ModelConfig& config) {
  if (auto s = config.Validate(); !s.ok()) return s;
  // Module constructors draw their default init from LibTorch's global
  // generator (it locks); LoadFlat overwrites every value right after.
  if (config.name == "gru") return std::make_shared<GruNetwork>(config);
  return std::make_shared<TransformerNetwork>(config);
}

absl::Status LoadFlat(NextEventNetwork& network, const std::vector<float>& flat) {
  torch::NoGradGuard no_grad;
  auto params = network.parameters();
  int64_t total = 0;
  for (const auto& p : params) total += p.numel();
  if (total != static_cast<int64_t>(flat.size())) {
    return absl::InvalidArgumentError(absl::StrCat("flat parameter vector has ", flat.size(),
                                                   " values but the model has ", total,
                                                   "; it belongs to another model config"));
  }
  int64_t offset = 0;
  for (auto& p : params) {
    p.copy_(torch::from_blob(const_cast<float*>(flat.data()) + offset, p.sizes(), torch::kFloat));
    offset += p.numel();
  }
  return absl::OkStatus();
}

std::vector<float> Flatten(NextEventNetwork& network) {
  std::vector<float> flat;
  for (const auto& p : network.parameters()) {
    auto c = p.detach().contiguous();
    flat.insert(flat.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return flat;
}

void UseThreadsInThisThread(int threads) {
  ConfigureProcessOnce();
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

}  // namespace tacit::internal

namespace tacit {

absl::StatusOr<std::vector<std::pair<std::string, std::vector<int64_t>>>> TorchParameterShapes(
    const ModelConfig& config) {
  auto network = internal::BuildNetwork(config);
  if (!network.ok()) return network.status();
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& item : (*network)->named_parameters()) {
    out.emplace_back(item.key(), item.value().sizes().vec());
  }
  return out;
}

void SetBlasThreads(int threads) {
  internal::UseThreadsInThisThread(at::get_num_threads());  // the once-only defaults first
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(std::max(threads, 1));
  }
}

std::string BlasCoreDescription() {
  const BlasInfo blas = DescribeLoadedBlas();
  if (blas.core.empty()) return "no OpenBLAS core type";
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  std::string out =
      absl::StrCat("core ", blas.core,
                   forced ? absl::StrCat(" (OPENBLAS_CORETYPE=", forced, ")") : " (detected)");
  const std::string best = BestOpenBlasCore(CpuFlags());
  if (IsOpenBlasUpgrade(best, blas.core)) {
    absl::StrAppend(&out, "; this CPU runs the faster ", best, " kernels",
                    forced ? ": unset OPENBLAS_CORETYPE" : "");
  }
  return out;
}

void UseFp32HeadProducts() {
  internal::OverrideTrainingHeadPrecision(internal::HeadPrecision::kFloat32, "UseFp32HeadProducts");
}

std::string BlasDescription() {
  const BlasInfo blas = DescribeLoadedBlas();
  const std::string library = blas.loaded ? blas.library : "unknown";
  // The step's head and recurrent products run on oneDNN, the rest on the BLAS.
  const std::string kernels =
      absl::StrCat("; head and recurrent products: ", internal::DnnlDescription(), ", head ",
                   internal::TrainingHeadPrecisionDescription());
  if (blas.openblas) {
    return absl::StrCat("OpenBLAS (", blas.config,
                        blas.threads > 0 ? absl::StrCat(", ", blas.threads, " threads") : "",
                        ") via ", library, "; ", BlasCoreDescription(), kernels);
  }
  return absl::StrCat("not OpenBLAS: ", library,
                      " (reference BLAS is ~3x slower; install libopenblas0-pthread)", kernels);
}

}  // namespace tacit
