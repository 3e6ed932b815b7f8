#include "secure_agg/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>

#include <memory>

#include "absl/strings/str_cat.h"

namespace tacit::secagg {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

absl::Status OpenSslError(const char* what) {
  return absl::InternalError(absl::StrCat("OpenSSL ", what, " failed"));
}

absl::StatusOr<PkeyPtr> PrivateKeyFromRaw(const SecretKey& key) {
  PkeyPtr pkey(
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

absl::Status RandomBytes(absl::Span<uint8_t> out) {
  if (out.empty()) return absl::OkStatus();
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) return OpenSslError("RAND_bytes");
  return absl::OkStatus();
}

absl::StatusOr<SecretKey> RandomSecretKey() {
  SecretKey key;
  if (RAND_bytes(key.data(), SecretKey::size()) != 1) return OpenSslError("RAND_bytes");
  return key;
}

absl::StatusOr<X25519KeyPair> GenerateX25519KeyPair() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return OpenSslError("X25519 key generation");
  }
  PkeyPtr pkey(raw);
  X25519KeyPair pair;
  size_t priv_len = SecretKey::size();
  size_t pub_len = kKeyBytes;
  pair.public_key.resize(kKeyBytes);
  if (EVP_PKEY_get_raw_private_key(pkey.get(), pair.private_key.data(), &priv_len) != 1 ||
      EVP_PKEY_get_raw_public_key(pkey.get(), pair.public_key.data(), &pub_len) != 1 ||
      priv_len != kKeyBytes || pub_len != kKeyBytes) {
    return OpenSslError("X25519 raw key export");
  }
  return pair;
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
  PkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public_key.data(),
                                           peer_public_key.size()));
  if (!peer) return OpenSslError("EVP_PKEY_new_raw_public_key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey->get(), nullptr));
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
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
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
  Bytes digest(32);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != digest.size()) {
    return OpenSslError("SHA-256");
  }
  return digest;
}

absl::StatusOr<Bytes> AesGcmSeal(const SecretKey& key, absl::Span<const uint8_t> nonce,
                                 absl::Span<const uint8_t> plaintext,
                                 absl::Span<const uint8_t> associated_data) {
  if (nonce.size() != kGcmNonceBytes)
    return absl::InvalidArgumentError("GCM nonce must be 12 bytes");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
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
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
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
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, key.data(), block.data()) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return OpenSslError("AES-256-CTR init");
  }
  return AesCtrStream(ctx);
}

AesCtrStream::AesCtrStream(AesCtrStream&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

AesCtrStream& AesCtrStream::operator=(AesCtrStream&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx_));
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

AesCtrStream::~AesCtrStream() { EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx_)); }

absl::Status AesCtrStream::Generate(absl::Span<uint8_t> out) {
  // Encrypting from a static zero block avoids clearing `out` first (one
  // memory pass less than zero-then-encrypt-in-place).
  static const uint8_t kZeros[16384] = {0};
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(ctx_);
  for (size_t done = 0; done < out.size(); done += sizeof(kZeros)) {
    const size_t n = std::min(sizeof(kZeros), out.size() - done);
    if (!CipherUpdate(ctx, out.data() + done, kZeros, n)) {
      return OpenSslError("AES-256-CTR keystream");
    }
  }
  return absl::OkStatus();
}

absl::Status AesCtrStream::Apply(absl::Span<uint8_t> data) {
  if (!CipherUpdate(static_cast<EVP_CIPHER_CTX*>(ctx_), data.data(), data.data(), data.size())) {
    return OpenSslError("AES-256-CTR keystream");
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
