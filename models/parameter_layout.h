#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/model_config.h"

namespace tacit {

// How a model's parameters sit in one flat float vector. Computed from the
// config alone (torch-free), so the coordinator can check sizes and hashes.
//
// The layout is the model's parameters in registration order, each tensor
// row-major (C order), float32, concatenated without gaps. The layout hash is
// FNV-1a 64 over the canonical text
//   "tacit-layout-v1;model=<name>;<param name>:<d0>x<d1>...;...;float32"
// printed as 16 lowercase hex digits. It changes whenever a name, a shape, the
// order or the model kind changes, and never otherwise.
struct ParameterSpec {
  // How InitialParameters fills this tensor (mirrors LibTorch's defaults).
  enum class Init { kUniform, kNormal, kZeros, kOnes };

  std::string name;            // e.g. "gru.weight_ih_l0"
  std::vector<int64_t> shape;  // e.g. {768, 64}
  int64_t offset = 0;          // first index in the flat vector
  int64_t size = 0;            // product of shape
  Init init = Init::kZeros;
  double init_scale = 0.0;      // uniform bound or normal standard deviation
  bool zero_first_row = false;  // embedding row of the padding token
};

struct ParameterLayout {
  std::vector<ParameterSpec> parameters;
  int64_t total_size = 0;
  std::string hash;  // 16 hex digits, see above
};

// InvalidArgument when the config is invalid.
absl::StatusOr<ParameterLayout> LayoutOf(const ModelConfig& config);

// Deterministic, platform-independent initial parameters for `seed` (own
// generator, no LibTorch global RNG): the same seed gives the same vector on
// every machine and thread.
absl::StatusOr<std::vector<float>> InitialParameters(const ModelConfig& config, uint64_t seed);

}  // namespace tacit
