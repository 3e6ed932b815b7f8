#include "models/parameter_layout.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

using Init = ParameterSpec::Init;

class LayoutBuilder {
 public:
  void Add(std::string name, std::vector<int64_t> shape, Init init, double scale,
           bool zero_first_row = false) {
    ParameterSpec p;
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.size = 1;
    for (int64_t d : p.shape) p.size *= d;
    p.offset = layout_.total_size;
    p.init = init;
    p.init_scale = scale;
    p.zero_first_row = zero_first_row;
    layout_.total_size += p.size;
    layout_.parameters.push_back(std::move(p));
  }
  // LibTorch's Linear default: weight and bias uniform in +-1/sqrt(fan_in).
  void AddLinear(const std::string& prefix, int64_t in, int64_t out) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    Add(prefix + ".weight", {out, in}, Init::kUniform, bound);
    Add(prefix + ".bias", {out}, Init::kUniform, bound);
  }
  void AddLayerNorm(const std::string& prefix, int64_t dim) {
    Add(prefix + ".weight", {dim}, Init::kOnes, 0.0);
    Add(prefix + ".bias", {dim}, Init::kZeros, 0.0);
  }
  ParameterLayout Finish(const std::string& model_name) && {
    std::string canonical = absl::StrCat("tacit-layout-v1;model=", model_name, ";");
    for (const auto& p : layout_.parameters) {
      absl::StrAppend(&canonical, p.name, ":");
      for (size_t i = 0; i < p.shape.size(); ++i) {
        absl::StrAppend(&canonical, i ? "x" : "", p.shape[i]);
      }
      absl::StrAppend(&canonical, ";");
    }
    absl::StrAppend(&canonical, "float32");
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
    for (unsigned char c : canonical) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    layout_.hash = absl::StrFormat("%016x", h);
    return std::move(layout_);
  }

 private:
  ParameterLayout layout_;
};

void AddGru(const ModelConfig& c, LayoutBuilder& b) {
  const int64_t v = c.vocab_size, e = c.embedding_dim, h = c.hidden_dim;
  b.Add("embedding.weight", {v, e}, Init::kNormal, 1.0, /*zero_first_row=*/true);
  // LibTorch's GRU: per layer w_ih, w_hh, b_ih, b_hh, all uniform +-1/sqrt(H).
  const double bound = 1.0 / std::sqrt(static_cast<double>(h));
  for (int l = 0; l < c.layers; ++l) {
    const int64_t in = l == 0 ? e : h;
    b.Add(absl::StrCat("gru.weight_ih_l", l), {3 * h, in}, Init::kUniform, bound);
    b.Add(absl::StrCat("gru.weight_hh_l", l), {3 * h, h}, Init::kUniform, bound);
    b.Add(absl::StrCat("gru.bias_ih_l", l), {3 * h}, Init::kUniform, bound);
    b.Add(absl::StrCat("gru.bias_hh_l", l), {3 * h}, Init::kUniform, bound);
  }
  b.AddLinear("output", h, v);
}

void AddTransformer(const ModelConfig& c, LayoutBuilder& b) {
  const int64_t v = c.vocab_size, d = c.embedding_dim, h = c.hidden_dim;
  b.Add("token_embedding.weight", {v, d}, Init::kNormal, 0.02, /*zero_first_row=*/true);
  b.Add("position_embedding.weight", {c.window, d}, Init::kNormal, 0.02);
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = absl::StrCat("blocks.", l, ".");
    b.AddLayerNorm(p + "norm1", d);
    b.AddLinear(p + "qkv", d, 3 * d);
    b.AddLinear(p + "proj", d, d);
    b.AddLayerNorm(p + "norm2", d);
    b.AddLinear(p + "mlp_in", d, h);
    b.AddLinear(p + "mlp_out", h, d);
  }
  b.AddLayerNorm("final_norm", d);
  b.AddLinear("output", d, v);
}

// SplitMix64: tiny, fast, and the same on every platform (std:: distributions
// are implementation-defined, so they are not used for parameters).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1): 53 random bits, never exactly 0.
  double Uniform() {
    return (static_cast<double>(Next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
  double Normal() {  // Box-Muller
    const double u1 = Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace

absl::StatusOr<ParameterLayout> LayoutOf(const ModelConfig& config) {
  TACIT_RETURN_IF_ERROR(config.Validate());
  LayoutBuilder builder;
  if (config.name == "gru") {
    AddGru(config, builder);
  } else {
    AddTransformer(config, builder);
  }
  return std::move(builder).Finish(config.name);
}

absl::StatusOr<std::vector<float>> InitialParameters(const ModelConfig& config, uint64_t seed) {
  TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(config));
  std::vector<float> out(static_cast<size_t>(layout.total_size), 0.0f);
  for (size_t i = 0; i < layout.parameters.size(); ++i) {
    const ParameterSpec& p = layout.parameters[i];
    // One stream per tensor, so adding a tensor never shifts the others.
    SplitMix64 rng(SplitMix64(seed ^ (0x5851f42d4c957f2dull * (i + 1))).Next());
    float* data = out.data() + p.offset;
    for (int64_t j = 0; j < p.size; ++j) {
      switch (p.init) {
        case Init::kUniform:
          data[j] = static_cast<float>((2.0 * rng.Uniform() - 1.0) * p.init_scale);
          break;
        case Init::kNormal:
          data[j] = static_cast<float>(rng.Normal() * p.init_scale);
          break;
        case Init::kOnes:
          data[j] = 1.0f;
          break;
        case Init::kZeros:
          data[j] = 0.0f;
          break;
      }
    }
    if (p.zero_first_row && p.shape.size() == 2) {
      std::fill(data, data + p.shape[1], 0.0f);
    }
  }
  return out;
}

}  // namespace tacit
