#pragma once

// Where the privacy samplers get their randomness: uniformly random bytes from
// a BitSource, turned into exact integer draws (uniform below n, Bernoulli of
// a rational) by rejection, never through floating point and never through
// <random>. privacy/ does not depend on secure_agg/, so it has its own small
// interface; production noise uses OsBitSource (OpenSSL RAND_bytes through
// common/secure_random.h).

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/openssl_ptr.h"

namespace tacit::privacy {

class BitSource {
 public:
  virtual ~BitSource() = default;
  // Fills `out` with uniformly random bytes; Internal when the source failed
  // (the caller must abort: never fall back to weaker randomness).
  virtual absl::Status Fill(absl::Span<uint8_t> out) = 0;
};

// OpenSSL's CSPRNG (tacit::SecureRandomBytes). Stateless, thread-safe. The
// only source a production client may draw noise or rounding from.
class OsBitSource final : public BitSource {
 public:
  absl::Status Fill(absl::Span<uint8_t> out) override;
};

// The AES-256-CTR keystream (OpenSSL EVP) under a 32-byte key: a
// deterministic expansion of a seed. Used for public randomness that every
// party must reproduce (the rotation's signs, see hadamard_rotation.h) and,
// through SeededBitSourceForSimulation, for reproducible tests. Not
// thread-safe.
class SeedExpander final : public BitSource {
 public:
  using Key = std::array<uint8_t, 32>;
  static absl::StatusOr<SeedExpander> Create(const Key& key);
  // Key = SHA-256("tacit.privacy.seed" || label || 8-byte little-endian seed).
  static absl::StatusOr<SeedExpander> FromSeed(uint64_t seed, std::string_view label);

  absl::Status Fill(absl::Span<uint8_t> out) override;

 private:
  explicit SeedExpander(EvpCipherCtxPtr ctx) : ctx_(std::move(ctx)) {}
  EvpCipherCtxPtr ctx_;
};

// FOR TESTS AND SIMULATIONS ONLY: noise drawn from it is known to anyone who
// knows the seed, which voids the privacy guarantee. A production client must
// use OsBitSource.
class SeededBitSourceForSimulation final : public BitSource {
 public:
  static absl::StatusOr<SeededBitSourceForSimulation> FromSeed(uint64_t seed,
                                                               std::string_view label = "");
  absl::Status Fill(absl::Span<uint8_t> out) override { return stream_.Fill(out); }

 private:
  explicit SeededBitSourceForSimulation(SeedExpander stream) : stream_(std::move(stream)) {}
  SeedExpander stream_;
};

// Exact integer draws over a BitSource, buffered (one Fill per 4 KiB).
// Uniform draws use rejection on masked words, so every outcome has exactly
// the probability it should (no modulo bias). Not thread-safe.
class RandomDraws {
 public:
  explicit RandomDraws(BitSource& source) : source_(source) {}
  RandomDraws(const RandomDraws&) = delete;
  RandomDraws& operator=(const RandomDraws&) = delete;
  ~RandomDraws();

  absl::StatusOr<uint64_t> Word();
  // Uniform in {0, ..., n - 1}; n >= 1.
  absl::StatusOr<absl::uint128> UniformBelow(absl::uint128 n);
  // true with probability numerator / denominator (0 <= numerator <=
  // denominator, denominator >= 1).
  absl::StatusOr<bool> Bernoulli(absl::uint128 numerator, absl::uint128 denominator);

 private:
  absl::Status Refill();
  BitSource& source_;
  std::array<uint8_t, 4096> buffer_{};
  size_t used_ = buffer_.size();
};

}  // namespace tacit::privacy
