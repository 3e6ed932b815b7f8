#pragma once

// The pseudonymous SecAgg credential: the fleet CA's word that a P-256 key
// belongs to a fleet device until a time, without saying which device. A
// fleet client sends it as its SecAgg identity (SecAggAdvertiseKeys.identity)
// instead of its X.509 certificate: 106 bytes instead of ~580, and a
// neighbour learns a key, not a device id. The coordinator, which runs the CA
// and sees each device's TLS certificate, still knows which key is whose.
//
// `tacit-coordinator pki issue DEVICE` makes it with the device certificate
// (coordinator/pki.h, DIR/devices/DEVICE.cred); `tacit-client enroll` stores
// it; identity.h's CredentialSigner and CredentialVerifier use it.
//
// Layout, big-endian, 106 bytes:
//   [0]        version tag, 0x01 (a DER certificate starts with 0x30)
//   [1, 9)     not_after: seconds since the Unix epoch, the certificate's expiry
//   [9, 42)    the device key's public point, SEC1 compressed
//   [42, 106)  the CA's ECDSA P-256/SHA-256 signature, raw r||s, low-s
// The CA signs CredentialSigningInput: a domain string first, so the CA's
// signature over a credential is never valid over anything else the CA signs
// (certificates sign DER, which starts with 0x30).

#include <cstdint>
#include <ctime>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "secure_agg/crypto.h"
#include "secure_agg/signatures.h"

namespace tacit::secagg {

constexpr uint8_t kCredentialVersion = 1;
constexpr char kCredentialDomain[] = "tacit secagg credential v1";
constexpr size_t kCredentialBytes = 1 + 8 + kP256CompressedKeyBytes + kP256SignatureBytes;

struct Credential {
  uint64_t not_after = 0;  // seconds since the Unix epoch; refused from then on
  Bytes public_key;        // compressed SEC1, kP256CompressedKeyBytes
  Bytes ca_signature;      // raw r||s over CredentialSigningInput
};

// kCredentialDomain || version || not_after (8 bytes) || public key.
Bytes CredentialSigningInput(uint64_t not_after, ByteSpan public_key);

Bytes EncodeCredential(const Credential& credential);

// Unauthenticated unless `bytes` is exactly one version-1 credential. The
// signature is not checked here (CheckCredential).
absl::StatusOr<Credential> ParseCredential(ByteSpan bytes);

// The encoded credential of `device_key`'s public key until `not_after`,
// signed by `ca_key` (both EC P-256).
absl::StatusOr<Bytes> IssueCredential(EVP_PKEY* ca_key, EVP_PKEY* device_key, uint64_t not_after);

// OK when `credential` is unexpired at `now` and signed by `ca_key`;
// Unauthenticated saying which check failed.
absl::Status CheckCredential(const Credential& credential, EVP_PKEY* ca_key, std::time_t now);

}  // namespace tacit::secagg
