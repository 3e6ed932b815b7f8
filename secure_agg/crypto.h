#pragma once

// Thin wrappers over OpenSSL EVP for the primitives secure aggregation needs.
// Nothing here implements a primitive: every operation goes through EVP.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/openssl_ptr.h"

namespace tacit::secagg {

class RandomSource;  // secure_agg/randomness.h

using Bytes = std::vector<uint8_t>;
constexpr size_t kKeyBytes = 32;  // X25519 keys, AES-256 keys, seeds
constexpr size_t kGcmNonceBytes = 12;
constexpr size_t kGcmTagBytes = 16;

// A 32-byte secret that wipes itself (OPENSSL_cleanse) when destroyed.
class SecretKey {
 public:
  SecretKey() { bytes_.fill(0); }
  explicit SecretKey(absl::Span<const uint8_t> bytes);
  SecretKey(const SecretKey& other) = default;
  SecretKey& operator=(const SecretKey& other) = default;
  ~SecretKey();

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  static constexpr size_t size() { return kKeyBytes; }
  absl::Span<const uint8_t> span() const { return absl::MakeConstSpan(bytes_); }

 private:
  std::array<uint8_t, kKeyBytes> bytes_;
};

// Constant-time equality (CRYPTO_memcmp); false when the sizes differ.
bool ConstantTimeEquals(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b);

// Random keys for tools and benchmarks come from the OpenSSL CSPRNG
// (tacit::SecureRandomBytes); round code draws from its RandomSource
// (secure_agg/randomness.h) so tests can inject randomness.
absl::StatusOr<SecretKey> RandomSecretKey();

// X25519 key pair (RFC 7748) held as raw bytes.
struct X25519KeyPair {
  SecretKey private_key;
  Bytes public_key;  // 32 bytes
};
// The private key is 32 bytes drawn from `random`, clamped (RFC 7748
// decodeScalar25519, as OpenSSL's keygen stores it) and made a key with
// EVP_PKEY_new_raw_private_key.
absl::StatusOr<X25519KeyPair> GenerateX25519KeyPair(RandomSource& random);
// The same from the production source (RAND_bytes).
absl::StatusOr<X25519KeyPair> GenerateX25519KeyPair();
// Clears the low 3 bits and the top bit and sets bit 254 (RFC 7748).
void ClampX25519PrivateKey(SecretKey& key);
// True when `key` is already in that canonical form (every key generated here
// is; a reconstructed key that is not was corrupted).
bool IsClampedX25519PrivateKey(const SecretKey& key);
// Derives the public key from a raw private key (used for the RFC vectors and to
// check a reconstructed key).
absl::StatusOr<Bytes> X25519PublicFromPrivate(const SecretKey& private_key);
// Shared secret X25519(private_key, peer_public_key); fails on a low-order peer key.
absl::StatusOr<SecretKey> X25519Agree(const SecretKey& private_key,
                                      absl::Span<const uint8_t> peer_public_key);

// HKDF-SHA256 (RFC 5869), extract and expand.
absl::StatusOr<Bytes> HkdfSha256(absl::Span<const uint8_t> ikm, absl::Span<const uint8_t> salt,
                                 absl::Span<const uint8_t> info, size_t length);
absl::StatusOr<SecretKey> HkdfSha256Key(absl::Span<const uint8_t> ikm,
                                        absl::Span<const uint8_t> salt,
                                        absl::Span<const uint8_t> info);

// SHA-256 digest as Bytes: a thin wrapper over common/sha256.h.
absl::StatusOr<Bytes> Sha256(absl::Span<const uint8_t> data);

// AES-256-GCM. Seal returns ciphertext || 16-byte tag. Open fails with DataLoss
// when the tag does not verify (tampered ciphertext, nonce or associated data).
absl::StatusOr<Bytes> AesGcmSeal(const SecretKey& key, absl::Span<const uint8_t> nonce,
                                 absl::Span<const uint8_t> plaintext,
                                 absl::Span<const uint8_t> associated_data);
absl::StatusOr<Bytes> AesGcmOpen(const SecretKey& key, absl::Span<const uint8_t> nonce,
                                 absl::Span<const uint8_t> ciphertext_and_tag,
                                 absl::Span<const uint8_t> associated_data);

// AES-256-CTR keystream: the mask generator. The stream for a key is the
// encryption of zero bytes with a 128-bit big-endian counter starting at
// `first_block`, so any 16-byte-aligned slice can be produced independently
// (parallel unmasking expands disjoint slices on different cores).
class AesCtrStream {
 public:
  static absl::StatusOr<AesCtrStream> Create(const SecretKey& key, uint64_t first_block = 0);
  // Starts from an explicit 16-byte initial counter block (for test vectors).
  static absl::StatusOr<AesCtrStream> CreateWithCounterBlock(const SecretKey& key,
                                                             absl::Span<const uint8_t> block);
  AesCtrStream(AesCtrStream&& other) noexcept = default;
  AesCtrStream& operator=(AesCtrStream&& other) noexcept = default;
  AesCtrStream(const AesCtrStream&) = delete;
  AesCtrStream& operator=(const AesCtrStream&) = delete;
  ~AesCtrStream() = default;

  // Writes the next out.size() keystream bytes.
  absl::Status Generate(absl::Span<uint8_t> out);
  // XORs the next keystream bytes into `data` (encryption of `data`).
  absl::Status Apply(absl::Span<uint8_t> data);

 private:
  explicit AesCtrStream(EvpCipherCtxPtr ctx) : ctx_(std::move(ctx)) {}
  EvpCipherCtxPtr ctx_;
};

}  // namespace tacit::secagg
