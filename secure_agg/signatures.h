#pragma once

// One-shot EVP signatures, and the compact ECDSA P-256 forms the SecAgg
// credential uses (secure_agg/credential.h). Compact matters: every client
// receives each neighbour's identity and signature in the key broadcast.
//
// Canonical forms only: a P-256 signature is raw r||s (32 bytes each,
// big-endian) with s in the lower half of the group order, and a public key
// is SEC1 compressed (33 bytes). ECDSA accepts both (r, s) and (r, n - s);
// refusing the high-s twin leaves one byte string per signature, so
// credentials and signatures can be compared as bytes (the duplicate-identity
// check in secure_agg/client/share_keys_state.cc compares identity bytes).

#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/openssl_ptr.h"

namespace tacit::secagg {

using ByteSpan = absl::Span<const uint8_t>;

constexpr size_t kP256CompressedKeyBytes = 33;
constexpr size_t kP256SignatureBytes = 64;

// The last queued OpenSSL error as text, for messages; clears the queue.
std::string TakeOpenSslError();

// EVP_DigestSign / EVP_DigestVerify in one call; `md` is null for Ed25519
// (it hashes internally). DigestVerify is Unauthenticated when the signature
// does not verify.
absl::StatusOr<std::vector<uint8_t>> DigestSign(EVP_PKEY* key, const EVP_MD* md, ByteSpan message);
absl::Status DigestVerify(EVP_PKEY* key, const EVP_MD* md, ByteSpan message, ByteSpan signature);

// ECDSA P-256/SHA-256 as 64 raw low-s bytes. InvalidArgument when `key` is
// not a P-256 private key.
absl::StatusOr<std::vector<uint8_t>> SignP256(EVP_PKEY* key, ByteSpan message);

// Unauthenticated unless `signature` is 64 bytes, has 0 < s <= n/2 and
// verifies under the P-256 key `key` over `message`.
absl::Status VerifyP256(EVP_PKEY* key, ByteSpan message, ByteSpan signature);

// The 33-byte SEC1 compressed form of a P-256 key's public point;
// InvalidArgument when `key` is not a P-256 key.
absl::StatusOr<std::vector<uint8_t>> CompressedP256PublicKey(EVP_PKEY* key);

// A P-256 public key from its compressed form; Unauthenticated when the
// bytes are not 33 bytes starting 0x02/0x03 naming a point of the curve.
absl::StatusOr<EvpPkeyPtr> P256PublicKeyFromCompressed(ByteSpan compressed);

}  // namespace tacit::secagg
