#pragma once

// The shape every non-fixed-point InputEncoder gives a client's input
// (secure_agg/client.h): the model delta encoded by a scheme of its own (the
// discrete Gaussian, rotated quantization), then the evaluation coordinates
// and the weight in the round's fixed point, as without it.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/fixed_point.h"

namespace tacit {

// The model delta's integers as signed values mod 2^bits, from the delta.
using ModelEncoder =
    std::function<absl::StatusOr<std::vector<int64_t>>(absl::Span<const double> delta)>;

// `update` holds `model_length` model coordinates then the evaluation
// coordinates (if any). Returns encode_model(delta), then QuantizeWeighted of
// the rest with `weight` last. InvalidArgument when the round's bits differ
// from `planned_bits` (the laptop's own plan of the task: the coordinator and
// the task disagree), the weight is not 1 (these schemes sum each client
// once) or the update is shorter than the model. The clear delta is wiped
// before it is freed. `rounding_key`: the fixed-point part's rounding key
// (simulations); fresh from RAND_bytes when unset.
absl::StatusOr<std::vector<int64_t>> EncodeModelThenFixedPoint(
    const char* scheme, int planned_bits, absl::Span<const float> update, size_t model_length,
    double weight, const secagg::FixedPointParams& round, const ModelEncoder& encode_model,
    const std::optional<std::array<uint8_t, 32>>& rounding_key);

}  // namespace tacit
