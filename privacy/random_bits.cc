#include "privacy/random_bits.h"

#include <cstring>
#include <string>

#include "common/secure_random.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace tacit::privacy {
namespace {

// Number of bits needed to write n - 1 (so that [0, 2^bits) covers [0, n)).
int BitsBelow(absl::uint128 n) {
  absl::uint128 max = n - 1;
  int bits = 0;
  while (max != 0) {
    ++bits;
    max >>= 1;
  }
  return bits;
}

}  // namespace

absl::Status OsBitSource::Fill(absl::Span<uint8_t> out) { return SecureRandomBytes(out); }

absl::StatusOr<SeedExpander> SeedExpander::Create(const Key& key) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const uint8_t iv[16] = {};
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key.data(), iv) != 1) {
    return absl::InternalError("AES-256-CTR initialisation failed (OpenSSL EVP)");
  }
  return SeedExpander(std::move(ctx));
}

absl::StatusOr<SeedExpander> SeedExpander::FromSeed(uint64_t seed, std::string_view label) {
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(seed >> (8 * i));
  Sha256Hasher hasher;
  hasher.Update(std::string_view("tacit.privacy.seed")).Update(label).Update(absl::MakeSpan(le));
  TACIT_ASSIGN_OR_RETURN(Sha256Digest digest, hasher.Finish());
  Key key;
  std::memcpy(key.data(), digest.data(), key.size());
  return Create(key);
}

absl::Status SeedExpander::Fill(absl::Span<uint8_t> out) {
  // The keystream is the encryption of zeros.
  std::memset(out.data(), 0, out.size());
  size_t done = 0;
  while (done < out.size()) {
    const int chunk = static_cast<int>(std::min<size_t>(out.size() - done, 1 << 20));
    int len = 0;
    if (EVP_EncryptUpdate(ctx_.get(), out.data() + done, &len, out.data() + done, chunk) != 1 ||
        len != chunk) {
      return absl::InternalError("AES-256-CTR keystream failed (OpenSSL EVP)");
    }
    done += chunk;
  }
  return absl::OkStatus();
}

absl::StatusOr<SeededBitSourceForSimulation> SeededBitSourceForSimulation::FromSeed(
    uint64_t seed, std::string_view label) {
  TACIT_ASSIGN_OR_RETURN(SeedExpander stream,
                         SeedExpander::FromSeed(seed, "simulation:" + std::string(label)));
  return SeededBitSourceForSimulation(std::move(stream));
}

RandomDraws::~RandomDraws() { Zeroize(absl::MakeSpan(buffer_)); }

absl::Status RandomDraws::Refill() {
  TACIT_RETURN_IF_ERROR(source_.Fill(absl::MakeSpan(buffer_)));
  used_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RandomDraws::Word() {
  if (used_ + 8 > buffer_.size()) TACIT_RETURN_IF_ERROR(Refill());
  uint64_t word;
  std::memcpy(&word, buffer_.data() + used_, 8);
  // Spent bytes are wiped so noise cannot be read back from the buffer later.
  std::memset(buffer_.data() + used_, 0, 8);
  used_ += 8;
  return word;
}

absl::StatusOr<absl::uint128> RandomDraws::UniformBelow(absl::uint128 n) {
  if (n == 0) return absl::InvalidArgumentError("UniformBelow needs n >= 1");
  const int bits = BitsBelow(n);
  if (bits == 0) return absl::uint128(0);
  // Rejection: draw `bits` uniform bits until the value is below n (each try
  // succeeds with probability > 1/2).
  while (true) {
    TACIT_ASSIGN_OR_RETURN(uint64_t low, Word());
    absl::uint128 value = low;
    if (bits > 64) {
      TACIT_ASSIGN_OR_RETURN(uint64_t high, Word());
      value = absl::MakeUint128(high, low);
    }
    if (bits < 128) value &= (absl::uint128(1) << bits) - 1;
    if (value < n) return value;
  }
}

absl::StatusOr<bool> RandomDraws::Bernoulli(absl::uint128 numerator, absl::uint128 denominator) {
  if (denominator == 0 || numerator > denominator) {
    return absl::InvalidArgumentError(
        "Bernoulli needs 0 <= numerator <= denominator, denominator >= 1");
  }
  TACIT_ASSIGN_OR_RETURN(absl::uint128 u, UniformBelow(denominator));
  return u < numerator;
}

}  // namespace tacit::privacy
