#pragma once

// The randomized Hadamard rotation of the distributed discrete Gaussian
// (Kairouz, Liu, Steinke 2021, arXiv 2102.06387, Sec. 4.2): pad x to P = the
// next power of two >= d, flip signs with a random diagonal D, apply the
// normalized Walsh-Hadamard matrix H / sqrt(P). The rotation is orthonormal,
// so it keeps the L2 norm (the privacy bound) and spreads a vector's mass
// evenly over the coordinates (so that few bits per coordinate suffice).
//
// The signs are public randomness: every client and the server must use the
// same ones, so they are expanded from a round seed (SeedExpander, AES-CTR).
// A lying coordinator choosing the seed can only hurt utility (more modular
// wrap), never privacy: the norm bound is enforced after rotation.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tacit::privacy {

// In place, unnormalized: v <- H v with H the P x P Walsh-Hadamard matrix
// (H H = P I). InvalidArgument unless v.size() is a power of two.
absl::Status FastWalshHadamard(absl::Span<double> v);

class HadamardRotation {
 public:
  static absl::StatusOr<HadamardRotation> Create(size_t dim, uint64_t seed);

  size_t dim() const { return dim_; }
  size_t padded_dim() const { return signs_.size(); }

  // dim -> padded_dim coordinates: H D pad(x) / sqrt(P).
  absl::StatusOr<std::vector<double>> Rotate(absl::Span<const double> x) const;
  // padded_dim -> dim coordinates: the first dim of D H y / sqrt(P).
  absl::StatusOr<std::vector<double>> Inverse(absl::Span<const double> y) const;

 private:
  HadamardRotation(size_t dim, std::vector<int8_t> signs) : dim_(dim), signs_(std::move(signs)) {}
  size_t dim_;
  std::vector<int8_t> signs_;
};

}  // namespace tacit::privacy
