#include "secure_agg/signatures.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace tacit::secagg {
namespace {

constexpr size_t kScalarBytes = 32;
constexpr size_t kUncompressedKeyBytes = 65;  // 0x04 || X || Y

// The order n of the P-256 group (SEC 2, secp256r1), and n / 2: a signature
// whose s is above it is the high twin of another.
const BIGNUM* P256Order() {
  static const BIGNUM* order = [] {
    BIGNUM* n = nullptr;
    BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    return n;
  }();
  return order;
}

const BIGNUM* HalfP256Order() {
  static const BIGNUM* half = [] {
    BIGNUM* h = BN_dup(P256Order());
    BN_rshift1(h, h);
    return h;
  }();
  return half;
}

bool IsP256(EVP_PKEY* key) {
  char group[64] = {0};
  size_t length = 0;
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(key, group, sizeof(group), &length) != 1) {
    ERR_clear_error();
    return false;
  }
  return std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0;
}

}  // namespace

std::string TakeOpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL detail";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<std::vector<uint8_t>> DigestSign(EVP_PKEY* key, const EVP_MD* md, ByteSpan message) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, message.data(), message.size()) != 1) {
    return absl::InternalError(absl::StrCat("signature setup failed: ", TakeOpenSslError()));
  }
  std::vector<uint8_t> signature(size);
  if (EVP_DigestSign(ctx.get(), signature.data(), &size, message.data(), message.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", TakeOpenSslError()));
  }
  signature.resize(size);
  return signature;
}

absl::Status DigestVerify(EVP_PKEY* key, const EVP_MD* md, ByteSpan message, ByteSpan signature) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
    return absl::InternalError(absl::StrCat("signature check setup failed: ", TakeOpenSslError()));
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError(
        "the signature does not verify under the advertised identity");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> SignP256(EVP_PKEY* key, ByteSpan message) {
  if (!IsP256(key)) return absl::InvalidArgumentError("the signing key is not an EC P-256 key");
  auto der = DigestSign(key, EVP_sha256(), message);
  if (!der.ok()) return der.status();
  const unsigned char* p = der->data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size())));
  if (!sig) {
    return absl::InternalError(
        absl::StrCat("ECDSA signature decoding failed: ", TakeOpenSslError()));
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  BignumPtr s(BN_dup(ECDSA_SIG_get0_s(sig.get())));
  // The low twin: (r, n - s) verifies too, and only one of them is accepted.
  if (!s || (BN_cmp(s.get(), HalfP256Order()) > 0 && BN_sub(s.get(), P256Order(), s.get()) != 1)) {
    return absl::InternalError("normalizing the ECDSA signature failed");
  }
  std::vector<uint8_t> raw(kP256SignatureBytes);
  if (BN_bn2binpad(r, raw.data(), kScalarBytes) != static_cast<int>(kScalarBytes) ||
      BN_bn2binpad(s.get(), raw.data() + kScalarBytes, kScalarBytes) !=
          static_cast<int>(kScalarBytes)) {
    return absl::InternalError("encoding the ECDSA signature failed");
  }
  return raw;
}

absl::Status VerifyP256(EVP_PKEY* key, ByteSpan message, ByteSpan signature) {
  if (signature.size() != kP256SignatureBytes) {
    return absl::UnauthenticatedError(absl::StrCat("a P-256 signature is ", kP256SignatureBytes,
                                                   " raw bytes, got ", signature.size()));
  }
  BignumPtr r(BN_bin2bn(signature.data(), kScalarBytes, nullptr));
  BignumPtr s(BN_bin2bn(signature.data() + kScalarBytes, kScalarBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig) return absl::InternalError("allocating an ECDSA signature failed");
  if (BN_is_zero(s.get()) || BN_cmp(s.get(), HalfP256Order()) > 0) {
    return absl::UnauthenticatedError(
        "the P-256 signature is not in its canonical low-s form (a re-encoded signature)");
  }
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return absl::InternalError("building an ECDSA signature failed");
  }
  r.release();  // owned by sig now
  s.release();
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return absl::InternalError("DER encoding of an ECDSA signature failed");
  std::vector<uint8_t> der(static_cast<size_t>(size));
  unsigned char* out = der.data();
  i2d_ECDSA_SIG(sig.get(), &out);
  return DigestVerify(key, EVP_sha256(), message, der);
}

absl::StatusOr<std::vector<uint8_t>> CompressedP256PublicKey(EVP_PKEY* key) {
  if (!IsP256(key)) return absl::InvalidArgumentError("the key is not an EC P-256 key");
  uint8_t point[kUncompressedKeyBytes];
  size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                      &length) != 1 ||
      length != kUncompressedKeyBytes || point[0] != 0x04) {
    return absl::InternalError(
        absl::StrCat("reading the P-256 public point failed: ", TakeOpenSslError()));
  }
  // SEC1 2.3.3: 0x02 for an even Y, 0x03 for an odd one, then X.
  std::vector<uint8_t> compressed(kP256CompressedKeyBytes);
  compressed[0] = static_cast<uint8_t>(0x02 | (point[kUncompressedKeyBytes - 1] & 1));
  std::memcpy(compressed.data() + 1, point + 1, kP256CompressedKeyBytes - 1);
  return compressed;
}

absl::StatusOr<EvpPkeyPtr> P256PublicKeyFromCompressed(ByteSpan compressed) {
  if (compressed.size() != kP256CompressedKeyBytes ||
      (compressed[0] != 0x02 && compressed[0] != 0x03)) {
    return absl::UnauthenticatedError("the key is not a compressed P-256 point");
  }
  std::vector<uint8_t> copy(compressed.begin(), compressed.end());
  char group[] = "P-256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, copy.data(), copy.size()),
      OSSL_PARAM_construct_end()};
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  // OpenSSL decompresses here, refusing an X outside the field or off the
  // curve.
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError("the key is not a point of the P-256 curve");
  }
  return EvpPkeyPtr(key);
}

}  // namespace tacit::secagg
