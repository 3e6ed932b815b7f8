#pragma once

// Mask expansion: a 32-byte seed keys AES-256-CTR, whose keystream read as
// little-endian 4-byte (bits <= 32) or 8-byte words is the mask vector. Adding
// or subtracting it modulo 2^bits is done in cache-sized chunks so a mask is
// never materialised whole.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"

namespace tacit::secagg {

struct MaskTerm {
  SecretKey seed;
  int sign = 1;  // +1 adds the mask, -1 subtracts it
};

// values[i] += sign * mask[offset + i] (mod 2^64; callers reduce mod 2^bits at
// the end), for every term. `offset` must be a multiple of 4 elements so the
// slice starts on an AES block.
absl::Status ApplyMasks(absl::Span<const MaskTerm> terms, uint32_t bits, uint64_t offset,
                        absl::Span<uint64_t> values);

// The same modulo 2^32, for bits <= 32 (2^bits divides 2^32, so nothing is
// lost): half the memory and twice the SIMD width of the 64-bit form. The
// client uses it to mask its own vector.
absl::Status ApplyMasks(absl::Span<const MaskTerm> terms, uint32_t bits, uint64_t offset,
                        absl::Span<uint32_t> values);

// Same, split over `threads` threads by disjoint vector slices (0 = all cores).
absl::Status ApplyMasksParallel(absl::Span<const MaskTerm> terms, uint32_t bits,
                                absl::Span<uint64_t> values, unsigned threads);

// Reduces every value modulo 2^bits.
void ReduceModulo(absl::Span<uint64_t> values, uint32_t bits);
void ReduceModulo(absl::Span<uint32_t> values, uint32_t bits);

}  // namespace tacit::secagg
