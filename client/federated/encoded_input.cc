#include "client/federated/encoded_input.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<std::vector<int64_t>> EncodeModelThenFixedPoint(
    const char* scheme, int planned_bits, absl::Span<const float> update, size_t model_length,
    double weight, const secagg::FixedPointParams& round, const ModelEncoder& encode_model,
    const std::optional<std::array<uint8_t, 32>>& rounding_key) {
  if (static_cast<int>(round.bits) != planned_bits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the round sums in a ", round.bits, "-bit ring but the task's ", scheme, " is planned for ",
        planned_bits, " bits: refusing to encode (the coordinator and the task disagree)"));
  }
  if (weight != 1.0) {
    return absl::InvalidArgumentError(absl::StrCat("the ", scheme,
                                                   " takes every client with weight 1, this "
                                                   "update has weight ",
                                                   weight));
  }
  if (update.size() < model_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the update has ", update.size(), " values, fewer than the model's ", model_length));
  }
  std::vector<double> delta(update.begin(), update.begin() + model_length);
  absl::StatusOr<std::vector<int64_t>> encoded = encode_model(delta);
  std::fill(delta.begin(), delta.end(), 0.0);  // the clear update: wiped before it is freed
  if (!encoded.ok()) return encoded.status();
  TACIT_ASSIGN_OR_RETURN(
      std::vector<int64_t> rest,
      secagg::QuantizeWeighted(round, update.subspan(model_length), weight, rounding_key));
  encoded->insert(encoded->end(), rest.begin(), rest.end());
  return encoded;
}

}  // namespace tacit
