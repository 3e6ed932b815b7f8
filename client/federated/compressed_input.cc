#include "client/federated/compressed_input.h"

#include "client/federated/encoded_input.h"
#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<std::vector<int64_t>> EncodeCompressedInput(
    const RotatedQuantizationPlan& plan, uint64_t rotation_seed, absl::Span<const float> update,
    size_t model_length, double weight, const secagg::FixedPointParams& round,
    privacy::RandomDraws& draws, CompressionCounts* counts,
    const std::optional<std::array<uint8_t, 32>>& rounding_key) {
  const ModelEncoder encode =
      [&](absl::Span<const double> delta) -> absl::StatusOr<std::vector<int64_t>> {
    TACIT_ASSIGN_OR_RETURN(QuantizedUpdate quantized,
                           QuantizeRotated(delta, plan, rotation_seed, draws));
    if (counts != nullptr) {
      counts->clipped += quantized.clipped;
      counts->encoded += static_cast<int64_t>(quantized.levels.size());
    }
    // Levels are below 2^k <= 2^(bits - 1): their own signed value.
    return std::vector<int64_t>(quantized.levels.begin(), quantized.levels.end());
  };
  return EncodeModelThenFixedPoint("rotated quantization", plan.bits, update, model_length, weight,
                                   round, encode, rounding_key);
}

secagg::InputEncoder CompressedInputEncoder(RotatedQuantizationPlan plan, uint64_t rotation_seed,
                                            size_t model_length,
                                            std::shared_ptr<CompressionCounts> counts,
                                            std::optional<SeededRounding> seeded) {
  return [plan = std::move(plan), rotation_seed, model_length, counts = std::move(counts), seeded](
             const std::vector<float>& input, double weight,
             const secagg::FixedPointParams& round) -> absl::StatusOr<std::vector<int64_t>> {
    if (seeded) {
      TACIT_ASSIGN_OR_RETURN(privacy::SeededBitSourceForSimulation source,
                             privacy::SeededBitSourceForSimulation::FromSeed(
                                 seeded->rounding_seed, "rotated quantization"));
      privacy::RandomDraws draws(source);
      return EncodeCompressedInput(plan, rotation_seed, input, model_length, weight, round, draws,
                                   counts.get(), seeded->rounding_key);
    }
    privacy::OsBitSource os;
    privacy::RandomDraws draws(os);
    return EncodeCompressedInput(plan, rotation_seed, input, model_length, weight, round, draws,
                                 counts.get());
  };
}

}  // namespace tacit
