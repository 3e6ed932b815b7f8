#include "models/prediction.h"

#include <torch/nn.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"
#include "models/internal/network.h"

namespace tacit {

absl::StatusOr<std::vector<TokenProbability>> PredictNext(const ModelConfig& config,
                                                          const std::vector<float>& params,
                                                          const std::vector<int32_t>& context,
                                                          int k) {
  TACIT_RETURN_IF_ERROR(config.Validate());
  if (k < 1) return absl::InvalidArgumentError(absl::StrCat("k must be >= 1, got ", k));
  for (int32_t token : context) {
    if (token < 0 || static_cast<uint32_t>(token) >= config.vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("token ", token, " is outside the vocabulary of ", config.vocab_size));
    }
  }
  internal::UseThreadsInThisThread(1);
  TACIT_ASSIGN_OR_RETURN(auto network, internal::BuildNetwork(config));
  TACIT_RETURN_IF_ERROR(internal::LoadFlat(*network, params));
  network->eval();
  torch::InferenceMode inference;

  const auto window = static_cast<int64_t>(config.window);
  std::vector<int64_t> input(static_cast<size_t>(window), HashedVocabulary::kPadding);
  const int64_t take = std::min<int64_t>(window, static_cast<int64_t>(context.size()));
  std::copy(context.end() - take, context.end(), input.end() - take);
  auto in = torch::from_blob(input.data(), {1, window}, torch::kLong);
  auto features = network->Features(in).slice(1, window - 1, window);
  auto probabilities = torch::softmax(network->Head(features).reshape({-1}), 0);
  // One more than asked: the padding token may be among them.
  const int64_t asked = std::min<int64_t>(k + 1, probabilities.size(0));
  auto [values, indices] = probabilities.topk(asked);
  std::vector<TokenProbability> out;
  for (int64_t i = 0; i < asked && static_cast<int>(out.size()) < k; ++i) {
    const auto token = static_cast<int32_t>(indices[i].item<int64_t>());
    if (token == HashedVocabulary::kPadding) continue;
    out.push_back({token, values[i].item<double>()});
  }
  return out;
}

}  // namespace tacit
