#pragma once

// Fixed-point encoding of float vectors for summation modulo 2^bits.
//
// A client clips each value to [-clip, clip], multiplies by its weight (clipped
// to [0, max_weight]) and by `scale`, and rounds stochastically (up with
// probability equal to the fractional part, from an AES-CTR generator keyed by
// a rounding key the client draws from its RandomSource), so the rounding is unbiased. Its weight
// is appended as one more element the same way. Negative values wrap modulo 2^bits and decode back
// as signed once summed, which is exact as long as the sum's magnitude stays below 2^(bits-1):
// CheckNoWrap verifies that up front for a whole cohort.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tacit::secagg {

class SecretKey;  // secure_agg/crypto.h

constexpr uint32_t kMaxBits = 62;

struct FixedPointParams {
  uint32_t bits = 32;
  double clip_bound = 1.0;
  double scale = 1 << 16;
  double max_weight = 1.0;
};

// The up-front no-wrap check's figures.
struct NoWrapReport {
  double max_abs_element = 0;  // largest |quantized element| one client can send
  double max_abs_sum = 0;      // cohort_size * max_abs_element
  double limit = 0;            // 2^(bits-1) - 1, the largest signed sum decodable
  double headroom_bits = 0;    // log2(limit / max_abs_sum): spare bits
};

absl::Status ValidateFixedPointParams(const FixedPointParams& params);

// Fails (InvalidArgument, naming the figures and what to change) when
// `cohort_size` clients at the extremes of the range could wrap the sum.
absl::StatusOr<NoWrapReport> CheckNoWrap(const FixedPointParams& params, uint32_t cohort_size);

// The largest power-of-two scale for which CheckNoWrap passes, or an error when
// even scale 1 would wrap.
absl::StatusOr<double> LargestSafeScale(uint32_t bits, double clip_bound, double max_weight,
                                        uint32_t cohort_size);

// Quantizes weight * clip(input) element by element plus the weight itself as
// the last element; returns signed integers (the caller reduces mod 2^bits).
// `rounding_key` keys the rounding generator (AES-256-CTR): the client draws it
// from its RandomSource, simulations pass one derived from their seed so that a
// run is reproducible bit for bit.
absl::StatusOr<std::vector<int64_t>> QuantizeWeighted(const FixedPointParams& params,
                                                      absl::Span<const float> input, double weight,
                                                      const SecretKey& rounding_key);
// The same with `rounding_key` when given, else a fresh key from RAND_bytes.
absl::StatusOr<std::vector<int64_t>> QuantizeWeighted(
    const FixedPointParams& params, absl::Span<const float> input, double weight,
    const std::optional<std::array<uint8_t, 32>>& rounding_key = std::nullopt);

// Reduces a signed integer modulo 2^bits, and maps a residue back to the signed
// value in [-2^(bits-1), 2^(bits-1)).
uint64_t ToModular(int64_t value, uint32_t bits);
int64_t FromModular(uint64_t residue, uint32_t bits);

}  // namespace tacit::secagg
