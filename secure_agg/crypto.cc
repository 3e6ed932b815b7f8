#include "secure_agg/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "common/secure_random.h"
#include "common/sha256.h"
#include "secure_agg/randomness.h"

namespace tacit::secagg {
namespace {

absl::Status OpenSslError(const char* what) {
  return absl::InternalError(absl::StrCat("OpenSSL ", what, " failed"));
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromRaw(const SecretKey& key) {
  EvpPkeyPtr pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, key.data(), SecretKey::size()));
  if (!pkey) return OpenSslError("EVP_PKEY_new_raw_private_key");
  return pkey;
}

// Runs a cipher update over `in` into `out` in pieces that fit an int.
bool CipherUpdate(EVP_CIPHER_CTX* ctx, uint8_t* out, const uint8_t* in, size_t size) {
  constexpr size_t kStep = size_t{1} << 30;
  while (size > 0) {
    const int n = static_cast<int>(std::min(size, kStep));
    int written = 0;
    if (EVP_EncryptUpdate(ctx, out, &written, in, n) != 1 || written != n) return false;
    out += n;
    in += n;
    size -= n;
  }
  return true;
}

}  // namespace

SecretKey::SecretKey(absl::Span<const uint8_t> bytes) {
  bytes_.fill(0);
  std::copy_n(bytes.begin(), std::min(bytes.size(), bytes_.size()), bytes_.begin());
}

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

bool ConstantTimeEquals(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<SecretKey> RandomSecretKey() { return DrawSecretKey(ProductionRandomSource()); }

void ClampX25519PrivateKey(SecretKey& key) {
  key.data()[0] &= 248;
  key.data()[31] &= 127;
  key.data()[31] |= 64;
}

bool IsClampedX25519PrivateKey(const SecretKey& key) {
  return (key.data()[0] & 7) == 0 && (key.data()[31] & 0xc0) == 64;
}

absl::StatusOr<X25519KeyPair> GenerateX25519KeyPair(RandomSource& random) {
  X25519KeyPair pair;
  absl::Status drawn = random.Fill(absl::MakeSpan(pair.private_key.data(), SecretKey::size()));
  if (!drawn.ok()) return drawn;
  // Clamp as RFC 7748 decodeScalar25519 (and OpenSSL's own keygen) does, so the
  // stored private key, which is Shamir-shared, is the canonical scalar: a
  // reconstruction that differs in any bit is then a different key.
  ClampX25519PrivateKey(pair.private_key);
  auto pkey = PrivateKeyFromRaw(pair.private_key);
  if (!pkey.ok()) return pkey.status();
  size_t pub_len = kKeyBytes;
  pair.public_key.resize(kKeyBytes);
  if (EVP_PKEY_get_raw_public_key(pkey->get(), pair.public_key.data(), &pub_len) != 1 ||
      pub_len != kKeyBytes) {
    return OpenSslError("X25519 raw public key export");
  }
  return pair;
}

absl::StatusOr<X25519KeyPair> GenerateX25519KeyPair() {
  return GenerateX25519KeyPair(ProductionRandomSource());
}

absl::StatusOr<Bytes> X25519PublicFromPrivate(const SecretKey& private_key) {
  auto pkey = PrivateKeyFromRaw(private_key);
  if (!pkey.ok()) return pkey.status();
  Bytes pub(kKeyBytes);
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey->get(), pub.data(), &len) != 1 || len != kKeyBytes) {
    return OpenSslError("EVP_PKEY_get_raw_public_key");
  }
  return pub;
}

absl::StatusOr<SecretKey> X25519Agree(const SecretKey& private_key,
                                      absl::Span<const uint8_t> peer_public_key) {
  if (peer_public_key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("X25519 public key must be 32 bytes, got ", peer_public_key.size()));
  }
  auto pkey = PrivateKeyFromRaw(private_key);
  if (!pkey.ok()) return pkey.status();
  EvpPkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public_key.data(),
                                              peer_public_key.size()));
  if (!peer) return OpenSslError("EVP_PKEY_new_raw_public_key");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey->get(), nullptr));
  SecretKey secret;
  size_t len = SecretKey::size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1 || len != kKeyBytes) {
    // OpenSSL rejects an all-zero shared secret (a low-order peer key).
    return absl::InvalidArgumentError(
        "X25519 key agreement failed: the peer public key is invalid (low order?)");
  }
  return secret;
}

absl::StatusOr<Bytes> HkdfSha256(absl::Span<const uint8_t> ikm, absl::Span<const uint8_t> salt,
                                 absl::Span<const uint8_t> info, size_t length) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  static const uint8_t kEmpty = 0;
  // OpenSSL wants a non-null pointer even for empty inputs.
  const uint8_t* salt_ptr = salt.empty() ? &kEmpty : salt.data();
  const uint8_t* info_ptr = info.empty() ? &kEmpty : info.data();
  Bytes out(length);
  size_t out_len = length;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt_ptr, static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ikm.data(), static_cast<int>(ikm.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), info_ptr, static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &out_len) != 1 || out_len != length) {
    return OpenSslError("HKDF-SHA256");
  }
  return out;
}

absl::StatusOr<SecretKey> HkdfSha256Key(absl::Span<const uint8_t> ikm,
                                        absl::Span<const uint8_t> salt,
                                        absl::Span<const uint8_t> info) {
  auto out = HkdfSha256(ikm, salt, info, kKeyBytes);
  if (!out.ok()) return out.status();
  SecretKey key(*out);
  OPENSSL_cleanse(out->data(), out->size());
  return key;
}

absl::StatusOr<Bytes> Sha256(absl::Span<const uint8_t> data) {
  auto digest = tacit::Sha256(data);
  if (!digest.ok()) return digest.status();
  return Bytes(digest->begin(), digest->end());
}

absl::StatusOr<Bytes> AesGcmSeal(const SecretKey& key, absl::Span<const uint8_t> nonce,
                                 absl::Span<const uint8_t> plaintext,
                                 absl::Span<const uint8_t> associated_data) {
  if (nonce.size() != kGcmNonceBytes)
    return absl::InvalidArgumentError("GCM nonce must be 12 bytes");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(plaintext.size() + kGcmTagBytes);
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      (!associated_data.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, associated_data.data(),
                         static_cast<int>(associated_data.size())) != 1) ||
      !CipherUpdate(ctx.get(), out.data(), plaintext.data(), plaintext.size()) ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                          out.data() + plaintext.size()) != 1) {
    return OpenSslError("AES-256-GCM encryption");
  }
  return out;
}

absl::StatusOr<Bytes> AesGcmOpen(const SecretKey& key, absl::Span<const uint8_t> nonce,
                                 absl::Span<const uint8_t> ciphertext_and_tag,
                                 absl::Span<const uint8_t> associated_data) {
  if (nonce.size() != kGcmNonceBytes)
    return absl::InvalidArgumentError("GCM nonce must be 12 bytes");
  if (ciphertext_and_tag.size() < kGcmTagBytes) {
    return absl::DataLossError(
        "share ciphertext is shorter than its GCM tag: tampered or truncated");
  }
  const size_t body = ciphertext_and_tag.size() - kGcmTagBytes;
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(body);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      (!associated_data.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, associated_data.data(),
                         static_cast<int>(associated_data.size())) != 1) ||
      (body > 0 && EVP_DecryptUpdate(ctx.get(), out.data(), &len, ciphertext_and_tag.data(),
                                     static_cast<int>(body)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes,
                          const_cast<uint8_t*>(ciphertext_and_tag.data() + body)) != 1) {
    return OpenSslError("AES-256-GCM decryption setup");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + body, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return absl::DataLossError(
        "share ciphertext failed AES-GCM authentication: it was tampered with, or sealed for "
        "another session, round or client pair");
  }
  return out;
}

absl::StatusOr<AesCtrStream> AesCtrStream::Create(const SecretKey& key, uint64_t first_block) {
  uint8_t iv[16] = {0};
  for (int i = 0; i < 8; ++i) iv[15 - i] = static_cast<uint8_t>(first_block >> (8 * i));
  return CreateWithCounterBlock(key, iv);
}

absl::StatusOr<AesCtrStream> AesCtrStream::CreateWithCounterBlock(const SecretKey& key,
                                                                  absl::Span<const uint8_t> block) {
  if (block.size() != 16) return absl::InvalidArgumentError("CTR counter block must be 16 bytes");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key.data(), block.data()) != 1) {
    return OpenSslError("AES-256-CTR init");
  }
  return AesCtrStream(std::move(ctx));
}

absl::Status AesCtrStream::Generate(absl::Span<uint8_t> out) {
  // Encrypting from a static zero block avoids clearing `out` first (one
  // memory pass less than zero-then-encrypt-in-place).
  static const uint8_t kZeros[16384] = {0};
  EVP_CIPHER_CTX* ctx = ctx_.get();
  for (size_t done = 0; done < out.size(); done += sizeof(kZeros)) {
    const size_t n = std::min(sizeof(kZeros), out.size() - done);
    if (!CipherUpdate(ctx, out.data() + done, kZeros, n)) {
      return OpenSslError("AES-256-CTR keystream");
    }
  }
  return absl::OkStatus();
}

absl::Status AesCtrStream::Apply(absl::Span<uint8_t> data) {
  if (!CipherUpdate(ctx_.get(), data.data(), data.data(), data.size())) {
    return OpenSslError("AES-256-CTR keystream");
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
