#pragma once

// A client's update as rotated quantization sends it into the secure sum
// (task/rotated_quantization.h): the clipped model delta rotated block by
// block and quantized stochastically to bits_per_coordinate bits, then the
// evaluation counts and the weight in the round's fixed point
// (encoded_input.h). The fleet client and the simulator both encode here,
// with the plan the laptop makes from the task alone.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/random_bits.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"
#include "task/rotated_quantization.h"

namespace tacit {

// Counted by the encoders that share it (thread-safe): what the report shows.
struct CompressionCounts {
  std::atomic<int64_t> clipped{0};  // rotated coordinates beyond [-R, R]
  std::atomic<int64_t> encoded{0};  // rotated coordinates quantized
};

// Returns plan.encoded_dim level integers (in [0, 2^k - 1]), then the
// evaluation coordinates and the weight as QuantizeWeighted gives them.
// InvalidArgument when the round's bits differ from the plan's or the weight
// is not 1. `counts`, when set, is added this encoding's clipped and encoded
// coordinates.
absl::StatusOr<std::vector<int64_t>> EncodeCompressedInput(
    const RotatedQuantizationPlan& plan, uint64_t rotation_seed, absl::Span<const float> update,
    size_t model_length, double weight, const secagg::FixedPointParams& round,
    privacy::RandomDraws& draws, CompressionCounts* counts = nullptr,
    const std::optional<std::array<uint8_t, 32>>& rounding_key = std::nullopt);

// Simulations only: reproducible stochastic rounding.
struct SeededRounding {
  uint64_t rounding_seed = 0;              // the levels' rounding
  std::array<uint8_t, 32> rounding_key{};  // the fixed-point part's
};

// The secure aggregation InputEncoder: EncodeCompressedInput with rounding
// drawn from the OS CSPRNG (privacy::OsBitSource), or from `seeded`.
secagg::InputEncoder CompressedInputEncoder(RotatedQuantizationPlan plan, uint64_t rotation_seed,
                                            size_t model_length,
                                            std::shared_ptr<CompressionCounts> counts = nullptr,
                                            std::optional<SeededRounding> seeded = std::nullopt);

}  // namespace tacit
