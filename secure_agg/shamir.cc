#include "secure_agg/shamir.h"

#include <openssl/crypto.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"
#include "secure_agg/randomness.h"

namespace tacit::secagg {
namespace {

// GCC/Clang 128-bit integers; __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 Uint128;

uint64_t Reduce(Uint128 x) {
  // x = hi * 2^61 + lo and 2^61 = 1 (mod p).
  uint64_t lo = static_cast<uint64_t>(x) & kShamirPrime;
  uint64_t hi = static_cast<uint64_t>(x >> 61);
  uint64_t r = lo + (hi & kShamirPrime) + (hi >> 61);
  r = (r & kShamirPrime) + (r >> 61);
  return r >= kShamirPrime ? r - kShamirPrime : r;
}

// Uniform field element by rejection sampling 61-bit random values.
// Little-endian, so the draw is the same on every host.
absl::StatusOr<uint64_t> RandomFieldElement(RandomSource& random) {
  for (;;) {
    uint8_t bytes[8];
    absl::Status st = random.Fill(absl::MakeSpan(bytes));
    if (!st.ok()) return st;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[i];
    Zeroize(absl::MakeSpan(bytes));
    v &= kShamirPrime;
    if (v < kShamirPrime) return v;
  }
}

// The 32-byte secret as kShamirChunks little-endian 56-bit chunks.
std::array<uint64_t, kShamirChunks> SecretToChunks(const SecretKey& secret) {
  std::array<uint64_t, kShamirChunks> chunks{};
  for (size_t i = 0; i < kKeyBytes; ++i) {
    chunks[i / kShamirChunkBytes] |= uint64_t{secret.data()[i]} << (8 * (i % kShamirChunkBytes));
  }
  return chunks;
}

}  // namespace

uint64_t FieldAdd(uint64_t a, uint64_t b) {
  uint64_t r = a + b;
  return r >= kShamirPrime ? r - kShamirPrime : r;
}

uint64_t FieldSub(uint64_t a, uint64_t b) { return a >= b ? a - b : a + kShamirPrime - b; }

uint64_t FieldMul(uint64_t a, uint64_t b) { return Reduce(static_cast<Uint128>(a) * b); }

uint64_t FieldInverse(uint64_t a) {
  // Fermat: a^(p-2).
  uint64_t result = 1;
  uint64_t base = a;
  for (uint64_t e = kShamirPrime - 2; e > 0; e >>= 1) {
    if (e & 1) result = FieldMul(result, base);
    base = FieldMul(base, base);
  }
  return result;
}

absl::StatusOr<std::vector<ShamirShare>> ShamirSplit(const SecretKey& secret, uint32_t threshold,
                                                     absl::Span<const uint32_t> holder_ids) {
  return ShamirSplit(secret, threshold, holder_ids, ProductionRandomSource());
}

absl::StatusOr<std::vector<ShamirShare>> ShamirSplit(const SecretKey& secret, uint32_t threshold,
                                                     absl::Span<const uint32_t> holder_ids,
                                                     RandomSource& random) {
  if (threshold < 1 || threshold > holder_ids.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Shamir threshold ", threshold,
                                                   " must be between 1 and the ", holder_ids.size(),
                                                   " holders"));
  }
  if (std::set<uint32_t>(holder_ids.begin(), holder_ids.end()).size() != holder_ids.size()) {
    return absl::InvalidArgumentError("Shamir holder ids must be distinct");
  }
  // coefficients[c][j]: coefficient of x^j of chunk c's polynomial.
  std::array<uint64_t, kShamirChunks> chunks = SecretToChunks(secret);
  std::vector<std::vector<uint64_t>> coefficients(kShamirChunks,
                                                  std::vector<uint64_t>(threshold, 0));
  for (size_t c = 0; c < kShamirChunks; ++c) {
    coefficients[c][0] = chunks[c];
    for (uint32_t j = 1; j < threshold; ++j) {
      auto r = RandomFieldElement(random);
      if (!r.ok()) {
        for (auto& row : coefficients) OPENSSL_cleanse(row.data(), row.size() * sizeof(uint64_t));
        OPENSSL_cleanse(chunks.data(), sizeof(chunks));
        return r.status();
      }
      coefficients[c][j] = *r;
    }
  }
  std::vector<ShamirShare> shares;
  shares.reserve(holder_ids.size());
  for (uint32_t id : holder_ids) {
    ShamirShare share;
    share.holder_id = id;
    share.values.resize(kShamirChunks);
    const uint64_t x = uint64_t{id} + 1;
    for (size_t c = 0; c < kShamirChunks; ++c) {
      uint64_t y = 0;  // Horner
      for (uint32_t j = threshold; j-- > 0;) y = FieldAdd(FieldMul(y, x), coefficients[c][j]);
      share.values[c] = y;
    }
    shares.push_back(std::move(share));
  }
  for (auto& row : coefficients) OPENSSL_cleanse(row.data(), row.size() * sizeof(uint64_t));
  OPENSSL_cleanse(chunks.data(), sizeof(chunks));
  return shares;
}

absl::StatusOr<SecretKey> ShamirReconstruct(absl::Span<const ShamirShare> shares,
                                            uint32_t threshold) {
  if (threshold < 1 || shares.size() < threshold) {
    return absl::FailedPreconditionError(
        absl::StrCat("need ", threshold, " shares to reconstruct, have ", shares.size()));
  }
  std::vector<uint64_t> xs(threshold);
  for (uint32_t j = 0; j < threshold; ++j) {
    if (shares[j].values.size() != kShamirChunks) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a share must hold ", kShamirChunks, " field elements, got ", shares[j].values.size()));
    }
    for (uint64_t v : shares[j].values) {
      if (v >= kShamirPrime) return absl::InvalidArgumentError("share value outside the field");
    }
    xs[j] = uint64_t{shares[j].holder_id} + 1;
    for (uint32_t m = 0; m < j; ++m) {
      if (xs[m] == xs[j]) return absl::InvalidArgumentError("two shares from the same holder");
    }
  }
  // Lagrange basis at 0: lambda_j = prod_{m != j} x_m / (x_m - x_j).
  std::array<uint64_t, kShamirChunks> chunks{};
  for (uint32_t j = 0; j < threshold; ++j) {
    uint64_t num = 1;
    uint64_t den = 1;
    for (uint32_t m = 0; m < threshold; ++m) {
      if (m == j) continue;
      num = FieldMul(num, xs[m]);
      den = FieldMul(den, FieldSub(xs[m], xs[j]));
    }
    const uint64_t lambda = FieldMul(num, FieldInverse(den));
    for (size_t c = 0; c < kShamirChunks; ++c) {
      chunks[c] = FieldAdd(chunks[c], FieldMul(lambda, shares[j].values[c]));
    }
  }
  SecretKey secret;
  for (size_t c = 0; c < kShamirChunks; ++c) {
    const size_t bytes_here = std::min(kShamirChunkBytes, kKeyBytes - c * kShamirChunkBytes);
    if (chunks[c] >> (8 * bytes_here) != 0) {
      // Shares of inconsistent polynomials (or too few real ones) give garbage.
      OPENSSL_cleanse(chunks.data(), sizeof(chunks));
      return absl::InvalidArgumentError(
          "reconstructed value does not fit a 32-byte secret: shares are inconsistent");
    }
    for (size_t b = 0; b < bytes_here; ++b) {
      secret.data()[c * kShamirChunkBytes + b] = static_cast<uint8_t>(chunks[c] >> (8 * b));
    }
  }
  OPENSSL_cleanse(chunks.data(), sizeof(chunks));
  return secret;
}

}  // namespace tacit::secagg
