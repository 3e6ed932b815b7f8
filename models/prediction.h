#pragma once

// On-device prediction: the model's most likely next events after a person's
// latest ones (library tacit_models; plain C++ header, LibTorch stays in the
// .cc). Used by `tacit-client predict` with the laptop's personal or global
// model; nothing here sends or saves anything.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/model_config.h"

namespace tacit {

struct TokenProbability {
  int32_t token = 0;
  double probability = 0;
};

// The `k` most likely next tokens after `context` (its last `window` tokens;
// a shorter context is left-padded as in training), most likely first. The
// padding token is never predicted. InvalidArgument for k < 1, a token
// outside the vocabulary, or parameters that do not fit the config.
absl::StatusOr<std::vector<TokenProbability>> PredictNext(const ModelConfig& config,
                                                          const std::vector<float>& params,
                                                          const std::vector<int32_t>& context,
                                                          int k);

}  // namespace tacit
