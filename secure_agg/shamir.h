#pragma once

// Shamir secret sharing of 32-byte secrets over GF(p), p = 2^61 - 1.
//
// Why this field: p is a Mersenne prime, so a product of two elements fits in
// an unsigned __int128 and reduces with two shifts and adds (no division); it
// has ~2^61 evaluation points, far more than the 2^32 client ids (a client with
// id i gets the point x = i + 1); and a 32-byte key splits into five 56-bit
// chunks, each below p, so a share is only five 64-bit limbs.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"

namespace tacit::secagg {

constexpr uint64_t kShamirPrime = (uint64_t{1} << 61) - 1;
constexpr size_t kShamirChunkBytes = 7;  // 56-bit chunks, each < p
constexpr size_t kShamirChunks = (kKeyBytes + kShamirChunkBytes - 1) / kShamirChunkBytes;  // 5

// Field arithmetic mod 2^61 - 1 (inputs must be < p).
uint64_t FieldAdd(uint64_t a, uint64_t b);
uint64_t FieldSub(uint64_t a, uint64_t b);
uint64_t FieldMul(uint64_t a, uint64_t b);
uint64_t FieldInverse(uint64_t a);  // a != 0

struct ShamirShare {
  uint32_t holder_id = 0;        // evaluation point is holder_id + 1
  std::vector<uint64_t> values;  // kShamirChunks field elements
};

class RandomSource;  // secure_agg/randomness.h

// Splits `secret` into one share per holder, any `threshold` of which recover it.
// Polynomial coefficients are drawn from `random` (uniform in the field, by
// rejection sampling). Holder ids must be distinct.
absl::StatusOr<std::vector<ShamirShare>> ShamirSplit(const SecretKey& secret, uint32_t threshold,
                                                     absl::Span<const uint32_t> holder_ids,
                                                     RandomSource& random);
// The same with coefficients from the production source (RAND_bytes).
absl::StatusOr<std::vector<ShamirShare>> ShamirSplit(const SecretKey& secret, uint32_t threshold,
                                                     absl::Span<const uint32_t> holder_ids);

// Recovers the secret from at least `threshold` shares (the first `threshold`
// are used). Fails when fewer are given, ids repeat or values are malformed.
absl::StatusOr<SecretKey> ShamirReconstruct(absl::Span<const ShamirShare> shares,
                                            uint32_t threshold);

}  // namespace tacit::secagg
