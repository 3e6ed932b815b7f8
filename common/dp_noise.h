#pragma once

// Distributed differential privacy: no single party adds the whole noise.
// Each of the clients in a round adds its own Gaussian share to its clipped
// update before secure aggregation; the coordinator only ever sees the sum.
// If at least `min_clients` shares reach the sum (the round's survivor
// threshold), the sum carries noise with standard deviation at least
//   sqrt(min_clients) * z * C / sqrt(min_clients) = z * C,
// the central-DP noise for noise multiplier z and clip norm C. Rounds with
// more survivors get more noise than needed (the price of not trusting the
// server with the noise).
//
// The generator is an AES-256-CTR keystream (OpenSSL EVP) keyed with 32 bytes
// from RAND_bytes, turned into Gaussians by Box-Muller on 53-bit uniforms in
// (0, 1). Floating-point Gaussian sampling is not a perfect DP sampler
// (Mironov 2012 "On significance of the least significant bits"); the shares
// are quantized to the secure aggregation field afterwards, which masks the
// low-order bits it relies on.

#include <array>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tacit {

// Standard deviation of one client's share: z * C / sqrt(min_clients).
absl::StatusOr<double> PerClientNoiseStddev(double noise_multiplier, double clip_norm,
                                            int min_clients);

class GaussianNoise {
 public:
  using Seed = std::array<uint8_t, 32>;

  // Seeded from the OS CSPRNG (RAND_bytes). What production uses.
  static absl::StatusOr<GaussianNoise> FromOsEntropy();
  // Deterministic stream for tests and reproducible simulations only.
  static absl::StatusOr<GaussianNoise> FromSeed(const Seed& seed);

  GaussianNoise(GaussianNoise&&) noexcept;
  GaussianNoise& operator=(GaussianNoise&&) noexcept;
  ~GaussianNoise();

  // One N(0, 1) sample.
  double Next();
  // values[i] += N(0, stddev^2) for every i.
  void Add(absl::Span<float> values, double stddev);

 private:
  struct Cipher;
  explicit GaussianNoise(std::unique_ptr<Cipher> cipher);
  uint64_t NextWord();

  std::unique_ptr<Cipher> cipher_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace tacit
