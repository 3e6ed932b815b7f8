#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit {

// Names and sizes a next-event model. Plain data, torch-free: the coordinator
// names the model of a task with it without linking LibTorch.
//
// Registered models (see ModelNames()):
//   "gru"         token embedding -> `layers` GRU layers of `hidden_dim` -> linear head
//                 over the vocabulary. `heads` is ignored.
//   "transformer" token + learned position embedding (`embedding_dim` = model width d),
//                 `layers` pre-norm causal self-attention blocks with `heads` heads and
//                 a GELU MLP of `hidden_dim`, a final layer norm, a linear head.
// `window` is the context length in tokens, for training windows and evaluation.
struct ModelConfig {
  std::string name = "gru";
  uint32_t vocab_size = 4096;
  int embedding_dim = 64;
  int hidden_dim = 256;
  int layers = 1;
  int heads = 4;
  int window = 64;

  // InvalidArgument naming the bad field and its allowed range.
  absl::Status Validate() const;

  // Missing fields keep the defaults above; unknown fields are refused (a typo
  // in a task config must not silently train another model).
  static absl::StatusOr<ModelConfig> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;

  bool operator==(const ModelConfig& other) const;
  bool operator!=(const ModelConfig& other) const { return !(*this == other); }
};

// The registered model names, for help texts and validation.
const std::vector<std::string>& ModelNames();

// The reference configurations: the 1.56 M-parameter GRU of the SEA reference
// and a 2-layer d=128 causal transformer of similar size.
ModelConfig DefaultGruConfig();
ModelConfig DefaultTransformerConfig();

}  // namespace tacit
