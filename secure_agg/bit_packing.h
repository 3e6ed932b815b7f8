#pragma once

// The masked vector's wire format: residues in [0, 2^bits) packed at exactly
// `bits` bits each, little-endian (element i occupies bits [i * bits,
// (i + 1) * bits) of the byte string, bit 0 being the low bit of byte 0), in
// ceil(n * bits / 8) bytes whose unused high bits in the last byte are zero.
// A 40-bit ring sends 5 bytes per element, a 20-bit ring 2.5: nothing is
// padded to a machine word. Since every field holds exactly `bits` bits, an
// element not reduced modulo 2^bits cannot be expressed on the wire at all.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tacit::secagg {

// tacit's largest ring (kMaxBits in fixed_point.h); the packer supports 1..62.
inline constexpr uint32_t kMaxPackedBits = 62;

// ceil(count * bits / 8): the exact wire size of `count` packed residues.
inline size_t PackedBytes(size_t count, uint32_t bits) {
  return (count / 8) * bits + ((count % 8) * bits + 7) / 8;
}

// Writes PackedBytes(residues.size(), bits) bytes at `out`. Each residue
// must be below 2^bits (the masking step reduces them); higher bits are
// dropped rather than spilled into the neighbouring element. InvalidArgument
// when `bits` is outside 1..kMaxPackedBits (nothing is written).
absl::Status PackResiduesInto(absl::Span<const uint32_t> residues, uint32_t bits, uint8_t* out);
absl::Status PackResiduesInto(absl::Span<const uint64_t> residues, uint32_t bits, uint8_t* out);
// The same into a new buffer of PackedBytes(residues.size(), bits) bytes.
absl::StatusOr<std::vector<uint8_t>> PackResidues(absl::Span<const uint64_t> residues,
                                                  uint32_t bits);

// Checks that `packed` is exactly PackedBytes(count, bits) bytes with zero
// padding bits, i.e. that it is the packing of some `count` residues.
absl::Status CheckPackedResidues(absl::Span<const uint8_t> packed, size_t count, uint32_t bits);

// Decodes `count` residues after CheckPackedResidues.
absl::StatusOr<std::vector<uint64_t>> UnpackResidues(absl::Span<const uint8_t> packed, size_t count,
                                                     uint32_t bits);

// Adds a packed vector element-wise into `sum` (mod 2^64). The whole buffer
// is checked first (CheckPackedResidues with count = sum.size()), so a
// rejected message leaves `sum` untouched.
absl::Status AddPackedResidues(absl::Span<const uint8_t> packed, uint32_t bits,
                               absl::Span<uint64_t> sum);

}  // namespace tacit::secagg
