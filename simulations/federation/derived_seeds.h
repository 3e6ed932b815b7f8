#pragma once

// Reproducible per-(round, person) seeds and keys derived from the
// experiment seed, shared by both transports so that the same config and
// seed train, noise and round the same way whichever carries the messages.
// Simulation behaviour, training order, DP noise and stochastic rounding
// only: secure aggregation keys and masks never come from here.

#include <array>
#include <cstddef>
#include <cstdint>

namespace tacit::sim {

// SplitMix64 finalizer.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t salt) {
  return Mix(Mix(Mix(seed ^ salt) ^ a) ^ b);
}

// 32 bytes of the same derivation, for generators keyed by AES (DP noise and
// stochastic rounding), so simulated runs are reproducible bit for bit.
inline std::array<uint8_t, 32> DeriveKey(uint64_t seed, uint64_t a, uint64_t b, uint64_t salt) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); i += 8) {
    uint64_t word = DeriveSeed(seed, a, b, salt + i);
    for (int k = 0; k < 8; ++k) key[i + k] = static_cast<uint8_t>(word >> (8 * k));
  }
  return key;
}

// Salts of the derivations, one per use.
inline constexpr uint64_t kBehaviourSalt = 0xbe4a;
inline constexpr uint64_t kInitialModelSalt = 0x1417;
inline constexpr uint64_t kTrainingSalt = 0x7a1;
inline constexpr uint64_t kNoiseSalt = 0xd9;
inline constexpr uint64_t kRoundingSalt = 0x40d;
inline constexpr uint64_t kPersonalizationSalt = 0x9e5;
inline constexpr uint64_t kEvaluationSampleSalt = 0xe5a;

}  // namespace tacit::sim
