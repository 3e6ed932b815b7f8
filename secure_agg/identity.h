#pragma once

// Who stands behind an advertised key pair. The coordinator relays every
// client's public keys to its neighbours; without signatures it can swap the
// keys of all of one client's neighbours in the broadcast it sends that client,
// then decrypt every share it sends and strip every mask (Bonawitz et al. CCS
// 2017, Sec. 6). Each client therefore signs its advertisement with its device
// identity and checks its neighbours' signatures against an identity it trusts.
//
// Fleet: CredentialSigner (the device's EC P-256 key and its pseudonymous
// SecAgg credential, secure_agg/credential.h) and CredentialVerifier (trusts
// only credentials the fleet CA signed). X509Signer and X509Verifier (the
// DER device certificate, which names the device) are kept for tests and
// benchmarks; fleet rounds no longer accept them (docs/threat_model.md).
// Simulations and tests: Ed25519Signer and KnownKeysVerifier (the registered
// raw public keys stand in for the CA). Everything goes through OpenSSL EVP.
//
// Limit: the employer runs the CA. A signature verified against it stops a
// coordinator host that lies, not an operator who holds the CA key and can
// enrol devices of its own.

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/openssl_ptr.h"
#include "secure_agg/credential.h"
#include "secure_agg/crypto.h"
#include "secure_agg/signatures.h"

namespace tacit::secagg {

class Signer {
 public:
  virtual ~Signer() = default;
  // What neighbours verify the signature against: a SecAgg credential, a DER
  // certificate or a raw public key, sent as SecAggAdvertiseKeys::identity.
  virtual const Bytes& identity() const = 0;
  virtual absl::StatusOr<Bytes> Sign(ByteSpan message) const = 0;
};

class IdentityVerifier {
 public:
  virtual ~IdentityVerifier() = default;
  // OK only when `identity` is one this verifier trusts and `signature` is its
  // signature over `message`; Unauthenticated (saying which) otherwise.
  virtual absl::Status Verify(ByteSpan identity, ByteSpan message, ByteSpan signature) const = 0;
};

// Signs with ECDSA/SHA-256 under the device key; identity() is the DER
// device certificate.
class X509Signer final : public Signer {
 public:
  // The PEM texts of the device's private key and certificate (as enrolment
  // stores them); fails when the key does not belong to the certificate.
  static absl::StatusOr<std::unique_ptr<X509Signer>> FromPem(const std::string& key_pem,
                                                             const std::string& cert_pem);
  const Bytes& identity() const override { return certificate_der_; }
  absl::StatusOr<Bytes> Sign(ByteSpan message) const override;

 private:
  X509Signer(EvpPkeyPtr key, Bytes certificate_der)
      : key_(std::move(key)), certificate_der_(std::move(certificate_der)) {}
  EvpPkeyPtr key_;
  Bytes certificate_der_;
};

// Accepts a DER certificate only when it chains to the one fleet CA given
// here (nothing from the system store), is valid now, is not a CA and carries
// the clientAuth extended key usage the PKI gives device certificates
// (coordinator/pki.cc); then checks ECDSA/SHA-256 with its public key.
class X509Verifier final : public IdentityVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<X509Verifier>> FromPem(const std::string& ca_cert_pem);
  absl::Status Verify(ByteSpan identity, ByteSpan message, ByteSpan signature) const override;

 private:
  explicit X509Verifier(X509StorePtr store) : store_(std::move(store)) {}
  X509StorePtr store_;
};

// Signs with ECDSA P-256/SHA-256 under the device key, as 64 raw low-s
// bytes; identity() is the device's 106-byte SecAgg credential.
class CredentialSigner final : public Signer {
 public:
  // The device key's PEM (as enrolment stores it) and the credential `pki
  // issue` made with it; InvalidArgument when the credential is malformed or
  // names another key.
  static absl::StatusOr<std::unique_ptr<CredentialSigner>> Create(const std::string& key_pem,
                                                                  ByteSpan credential);
  const Bytes& identity() const override { return credential_; }
  absl::StatusOr<Bytes> Sign(ByteSpan message) const override;

 private:
  CredentialSigner(EvpPkeyPtr key, Bytes credential)
      : key_(std::move(key)), credential_(std::move(credential)) {}
  EvpPkeyPtr key_;
  Bytes credential_;
};

// Accepts an identity only when it is one well-formed credential, unexpired
// now, signed by the one fleet CA given here; then checks the advertisement
// signature (raw, low-s) with the credential's key. X.509 certificates are
// refused: a fleet signs with credentials only, so a device cannot hold a
// second seat under its certificate, and neighbours never see device ids.
class CredentialVerifier final : public IdentityVerifier {
 public:
  // The fleet CA's PEM certificate; its key must be EC P-256.
  static absl::StatusOr<std::unique_ptr<CredentialVerifier>> FromPem(
      const std::string& ca_cert_pem);
  absl::Status Verify(ByteSpan identity, ByteSpan message, ByteSpan signature) const override;
  // The credential alone (well formed, unexpired, signed by the CA): what
  // enrolment checks before storing one.
  absl::Status CheckCredential(ByteSpan credential) const;

 private:
  explicit CredentialVerifier(EvpPkeyPtr ca_key) : ca_key_(std::move(ca_key)) {}
  absl::StatusOr<Credential> Checked(ByteSpan credential) const;
  EvpPkeyPtr ca_key_;
};

// Ed25519 with a fresh key from OpenSSL's CSPRNG; identity() is the raw
// 32-byte public key.
class Ed25519Signer final : public Signer {
 public:
  static absl::StatusOr<std::unique_ptr<Ed25519Signer>> Generate();
  const Bytes& identity() const override { return public_key_; }
  absl::StatusOr<Bytes> Sign(ByteSpan message) const override;

 private:
  Ed25519Signer(EvpPkeyPtr key, Bytes public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}
  EvpPkeyPtr key_;
  Bytes public_key_;
};

// Accepts Ed25519 signatures by the registered public keys only: a simulated
// fleet's CA.
class KnownKeysVerifier final : public IdentityVerifier {
 public:
  void Register(const Bytes& public_key) { known_.insert(public_key); }
  absl::Status Verify(ByteSpan identity, ByteSpan message, ByteSpan signature) const override;

 private:
  std::set<Bytes> known_;
};

}  // namespace tacit::secagg
