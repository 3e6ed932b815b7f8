#include "privacy/hadamard_rotation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {

absl::Status FastWalshHadamard(absl::Span<double> v) {
  const size_t n = v.size();
  if (n == 0 || (n & (n - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Walsh-Hadamard needs a power-of-two length, got ", n));
  }
  for (size_t half = 1; half < n; half *= 2) {
    for (size_t block = 0; block < n; block += 2 * half) {
      for (size_t i = block; i < block + half; ++i) {
        const double a = v[i], b = v[i + half];
        v[i] = a + b;
        v[i + half] = a - b;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HadamardRotation> HadamardRotation::Create(size_t dim, uint64_t seed) {
  if (dim == 0 || dim > (size_t{1} << 40)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotation dimension must be in [1, 2^40], got ", dim));
  }
  size_t padded = 1;
  while (padded < dim) padded *= 2;
  TACIT_ASSIGN_OR_RETURN(SeedExpander expander,
                         SeedExpander::FromSeed(seed, "tacit.privacy.rotation"));
  std::vector<uint8_t> bits((padded + 7) / 8);
  TACIT_RETURN_IF_ERROR(expander.Fill(absl::MakeSpan(bits)));
  std::vector<int8_t> signs(padded);
  for (size_t i = 0; i < padded; ++i) signs[i] = ((bits[i / 8] >> (i % 8)) & 1) ? -1 : 1;
  return HadamardRotation(dim, std::move(signs));
}

absl::StatusOr<std::vector<double>> HadamardRotation::Rotate(absl::Span<const double> x) const {
  if (x.size() != dim_) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotation expects ", dim_, " coordinates, got ", x.size()));
  }
  std::vector<double> y(padded_dim(), 0.0);
  for (size_t i = 0; i < dim_; ++i) y[i] = signs_[i] * x[i];
  TACIT_RETURN_IF_ERROR(FastWalshHadamard(absl::MakeSpan(y)));
  const double norm = 1.0 / std::sqrt(static_cast<double>(padded_dim()));
  for (double& v : y) v *= norm;
  return y;
}

absl::StatusOr<std::vector<double>> HadamardRotation::Inverse(absl::Span<const double> y) const {
  if (y.size() != padded_dim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("inverse rotation expects ", padded_dim(), " coordinates, got ", y.size()));
  }
  std::vector<double> x(y.begin(), y.end());
  TACIT_RETURN_IF_ERROR(FastWalshHadamard(absl::MakeSpan(x)));
  const double norm = 1.0 / std::sqrt(static_cast<double>(padded_dim()));
  x.resize(dim_);
  for (size_t i = 0; i < dim_; ++i) x[i] *= signs_[i] * norm;
  return x;
}

}  // namespace tacit::privacy
