#pragma once

// The one source of randomness of a secure aggregation round. Every random draw
// of a round goes through a RandomSource: X25519 private keys, self-mask seeds,
// Shamir polynomial coefficients, AES-GCM nonces, the stochastic-rounding key
// and the server's neighbour-graph seed. Production uses OpenSSL's CSPRNG
// (RAND_bytes, via common/secure_random.h); tests and simulations inject
// SeededRandomSourceForTesting so that a whole round is reproducible bit for
// bit. Nothing here uses <random>.

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"

namespace tacit::secagg {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes; Internal when the source failed (the caller
  // must then abort what it was doing: never fall back to weaker randomness).
  virtual absl::Status Fill(absl::Span<uint8_t> out) = 0;
};

// OpenSSL RAND_bytes (tacit::SecureRandomBytes). Stateless and thread-safe.
class SecureRandomSource final : public RandomSource {
 public:
  absl::Status Fill(absl::Span<uint8_t> out) override;
};

// The process-wide production source (a SecureRandomSource).
RandomSource& ProductionRandomSource();

// `source` when set, else the production source: what a config's optional
// `std::shared_ptr<RandomSource>` resolves to.
std::shared_ptr<RandomSource> ResolveRandomSource(std::shared_ptr<RandomSource> source);

// FOR TESTS AND SIMULATIONS ONLY: a deterministic stream, the AES-256-CTR
// keystream (secure_agg/crypto.h AesCtrStream) under a 32-byte seed. Anyone
// who knows the seed knows every key and mask drawn from it, so a production
// client or server must never be given one. Thread-safe (one stream behind a
// mutex); the bytes a caller gets depend on the order of the draws.
class SeededRandomSourceForTesting final : public RandomSource {
 public:
  static absl::StatusOr<std::shared_ptr<SeededRandomSourceForTesting>> Create(
      const SecretKey& seed);
  // Seed = SHA-256("tacit.secagg.test-randomness" || label || 8-byte LE seed):
  // one independent stream per (label, seed), e.g. one per simulated client.
  static absl::StatusOr<std::shared_ptr<SeededRandomSourceForTesting>> FromSeed(
      uint64_t seed, std::string_view label = "");

  absl::Status Fill(absl::Span<uint8_t> out) override;

 private:
  explicit SeededRandomSourceForTesting(AesCtrStream stream) : stream_(std::move(stream)) {}
  std::mutex mu_;
  AesCtrStream stream_;
};

// A 32-byte secret drawn from `random`.
absl::StatusOr<SecretKey> DrawSecretKey(RandomSource& random);

}  // namespace tacit::secagg
