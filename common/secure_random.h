#pragma once

// The tree's one cryptographic random source: OpenSSL's CSPRNG (RAND_bytes).
// Keys, masks, seeds and nonces come from here (or from a RandomSource that a
// test injects, see secure_agg/randomness.h); never from <random>.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tacit {

// Fills `out` from RAND_bytes; Internal when the CSPRNG cannot be seeded.
absl::Status SecureRandomBytes(absl::Span<uint8_t> out);

// A uniformly random 64-bit value from RAND_bytes.
absl::StatusOr<uint64_t> SecureRandomU64();

// Wipes `bytes` (OPENSSL_cleanse: not optimised away).
void Zeroize(absl::Span<uint8_t> bytes);

}  // namespace tacit
