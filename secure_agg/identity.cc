#include "secure_agg/identity.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::secagg {
namespace {

constexpr size_t kEd25519KeyBytes = 32;

absl::StatusOr<X509Ptr> ParseDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    ERR_clear_error();
    return absl::UnauthenticatedError("the identity is not one DER X.509 certificate");
  }
  return cert;
}

absl::StatusOr<X509Ptr> ParsePemCertificate(const std::string& pem, const char* what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " is not a PEM certificate: ", TakeOpenSslError()));
  }
  return cert;
}

absl::StatusOr<EvpPkeyPtr> ParsePemDeviceKey(const std::string& key_pem) {
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the device key is not a PEM private key (re-enrol the device): ", TakeOpenSslError()));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::unique_ptr<X509Signer>> X509Signer::FromPem(const std::string& key_pem,
                                                                const std::string& cert_pem) {
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr key, ParsePemDeviceKey(key_pem));
  auto cert = ParsePemCertificate(cert_pem, "device certificate");
  if (!cert.ok()) return cert.status();
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "the device key does not belong to the device certificate (re-enrol the device)");
  }
  const int size = i2d_X509(cert->get(), nullptr);
  if (size <= 0) return absl::InternalError("DER encoding of the device certificate failed");
  Bytes der(static_cast<size_t>(size));
  unsigned char* out = der.data();
  i2d_X509(cert->get(), &out);
  return std::unique_ptr<X509Signer>(new X509Signer(std::move(key), std::move(der)));
}

absl::StatusOr<Bytes> X509Signer::Sign(ByteSpan message) const {
  return DigestSign(key_.get(), EVP_sha256(), message);
}

absl::StatusOr<std::unique_ptr<X509Verifier>> X509Verifier::FromPem(
    const std::string& ca_cert_pem) {
  auto ca = ParsePemCertificate(ca_cert_pem, "fleet CA certificate");
  if (!ca.ok()) return ca.status();
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), ca->get()) != 1) {
    return absl::InternalError(absl::StrCat("building the CA store failed: ", TakeOpenSslError()));
  }
  return std::unique_ptr<X509Verifier>(new X509Verifier(std::move(store)));
}

absl::Status X509Verifier::Verify(ByteSpan identity, ByteSpan message, ByteSpan signature) const {
  auto leaf = ParseDer(identity);
  if (!leaf.ok()) return leaf.status();
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf->get(), nullptr) != 1) {
    return absl::InternalError(
        absl::StrCat("certificate check setup failed: ", TakeOpenSslError()));
  }
  // The SSL-client purpose makes OpenSSL require clientAuth when the leaf
  // has an extended key usage; the explicit checks below also require it to
  // be present, so a CA or server certificate cannot hold a seat.
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::UnauthenticatedError(
        absl::StrCat("the identity certificate is not a valid fleet certificate: ",
                     X509_verify_cert_error_string(error)));
  }
  const uint32_t flags = X509_get_extension_flags(leaf->get());
  if (X509_check_ca(leaf->get()) != 0 || (flags & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(leaf->get()) & XKU_SSL_CLIENT) == 0) {
    return absl::UnauthenticatedError(
        "the identity certificate is not a device (clientAuth) certificate");
  }
  EVP_PKEY* key = X509_get0_pubkey(leaf->get());
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
    return absl::UnauthenticatedError("the identity certificate does not hold an EC device key");
  }
  return DigestVerify(key, EVP_sha256(), message, signature);
}

absl::StatusOr<std::unique_ptr<CredentialSigner>> CredentialSigner::Create(
    const std::string& key_pem, ByteSpan credential) {
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr key, ParsePemDeviceKey(key_pem));
  absl::StatusOr<Credential> parsed = ParseCredential(credential);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the SecAgg credential is malformed (", parsed.status().message(),
                     "); re-issue the device with `tacit-coordinator pki issue DEVICE --replace`"));
  }
  absl::StatusOr<Bytes> own_key = CompressedP256PublicKey(key.get());
  if (!own_key.ok()) return own_key.status();
  if (*own_key != parsed->public_key) {
    return absl::InvalidArgumentError(
        "the SecAgg credential is for another key than the device key: use the .key and .cred "
        "that `tacit-coordinator pki issue` made together");
  }
  return std::unique_ptr<CredentialSigner>(
      new CredentialSigner(std::move(key), Bytes(credential.begin(), credential.end())));
}

absl::StatusOr<Bytes> CredentialSigner::Sign(ByteSpan message) const {
  return SignP256(key_.get(), message);
}

absl::StatusOr<std::unique_ptr<CredentialVerifier>> CredentialVerifier::FromPem(
    const std::string& ca_cert_pem) {
  auto ca = ParsePemCertificate(ca_cert_pem, "fleet CA certificate");
  if (!ca.ok()) return ca.status();
  EvpPkeyPtr key(X509_get_pubkey(ca->get()));
  if (!key || !CompressedP256PublicKey(key.get()).ok()) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "the fleet CA certificate does not hold an EC P-256 key (use the ca.crt made by "
        "`tacit-coordinator pki init`)");
  }
  return std::unique_ptr<CredentialVerifier>(new CredentialVerifier(std::move(key)));
}

absl::StatusOr<Credential> CredentialVerifier::Checked(ByteSpan credential) const {
  TACIT_ASSIGN_OR_RETURN(Credential parsed, ParseCredential(credential));
  TACIT_RETURN_IF_ERROR(secagg::CheckCredential(parsed, ca_key_.get(), std::time(nullptr)));
  return parsed;
}

absl::Status CredentialVerifier::CheckCredential(ByteSpan credential) const {
  return Checked(credential).status();
}

absl::Status CredentialVerifier::Verify(ByteSpan identity, ByteSpan message,
                                        ByteSpan signature) const {
  // Expiry and the CA's signature first, then the advertisement's signature
  // under the key the CA vouched for.
  TACIT_ASSIGN_OR_RETURN(Credential credential, Checked(identity));
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr key, P256PublicKeyFromCompressed(credential.public_key));
  return VerifyP256(key.get(), message, signature);
}

absl::StatusOr<std::unique_ptr<Ed25519Signer>> Ed25519Signer::Generate() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  Bytes public_key(kEd25519KeyBytes);
  size_t size = public_key.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), public_key.data(), &size) != 1 ||
      size != kEd25519KeyBytes) {
    return absl::InternalError(absl::StrCat("Ed25519 key generation failed: ", TakeOpenSslError()));
  }
  return std::unique_ptr<Ed25519Signer>(new Ed25519Signer(std::move(key), std::move(public_key)));
}

absl::StatusOr<Bytes> Ed25519Signer::Sign(ByteSpan message) const {
  return DigestSign(key_.get(), nullptr, message);
}

absl::Status KnownKeysVerifier::Verify(ByteSpan identity, ByteSpan message,
                                       ByteSpan signature) const {
  if (!known_.count(Bytes(identity.begin(), identity.end()))) {
    return absl::UnauthenticatedError("the identity is not a registered Ed25519 key");
  }
  EvpPkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, identity.data(), identity.size()));
  if (!key) {
    return absl::InternalError(absl::StrCat("Ed25519 key import failed: ", TakeOpenSslError()));
  }
  return DigestVerify(key.get(), nullptr, message, signature);
}

}  // namespace tacit::secagg
