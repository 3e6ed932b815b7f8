#pragma once

// The fleet's public-key infrastructure, on OpenSSL 3 EVP + X509 APIs.
// One fleet CA (EC P-256, self-signed) signs a server certificate for the
// coordinator's DNS names / IP addresses and one certificate per device. A
// device certificate carries the device id twice: subject CN=<id> and
// subjectAltName URI:tacit://device/<id>; its extended key usage is
// clientAuth only. The gRPC layer calls VerifyDeviceCertificate on the
// peer's certificate: the device's identity is its certificate.
//
// With each device certificate the CA issues the device's pseudonymous SecAgg
// credential (secure_agg/credential.h): the same key and expiry, no device
// id. Devices sign their secure-aggregation keys with it, so neighbours
// learn a key, not who they aggregate with.
//
// Folder layout made by InitPkiFolder / IssueDeviceInFolder:
//   DIR/ca.key (0600) DIR/ca.crt DIR/server.key (0600) DIR/server.crt
//   DIR/devices/<id>.key (0600) DIR/devices/<id>.crt DIR/devices/<id>.cred

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tacit::coordinator {

struct KeyAndCert {
  std::string key_pem;   // PKCS#8, unencrypted: protect the file (0600)
  std::string cert_pem;  // X.509 v3
};

struct PkiValidity {
  int ca_days = 3650;
  int server_days = 825;
  int device_days = 365;
};

// Device ids: 1-64 characters of [A-Za-z0-9._-], not starting with '.' or '-'.
absl::Status ValidateDeviceId(const std::string& device_id);

absl::StatusOr<KeyAndCert> CreateFleetCa(const std::string& common_name, int days);
// `names`: DNS names and/or IPv4/IPv6 addresses the coordinator serves on.
absl::StatusOr<KeyAndCert> IssueServerCertificate(const KeyAndCert& ca,
                                                  const std::vector<std::string>& names, int days);
absl::StatusOr<KeyAndCert> IssueDeviceCertificate(const KeyAndCert& ca,
                                                  const std::string& device_id, int days);

// The SecAgg credential (binary, secure_agg/credential.h) of the device
// certificate `device_cert_pem`: its public key and expiry, signed by `ca`.
absl::StatusOr<std::string> IssueSecAggCredential(const KeyAndCert& ca,
                                                  const std::string& device_cert_pem);

// Checks that `peer_cert_pem` chains to `ca_cert_pem`, is within its validity
// period at `at` (default: now), is meant for client authentication and
// names one device id consistently; returns that id. Failures are
// Unauthenticated with the reason (expired, unknown issuer, ...).
absl::StatusOr<std::string> VerifyDeviceCertificate(const std::string& peer_cert_pem,
                                                    const std::string& ca_cert_pem,
                                                    std::optional<std::time_t> at = std::nullopt);

// `pki init DIR`: refuses to overwrite an existing CA key.
absl::Status InitPkiFolder(const std::string& dir, const std::vector<std::string>& server_names,
                           const PkiValidity& validity = {});
// `pki issue DEVICE`: writes the key, the certificate and the SecAgg
// credential (DIR/devices/<id>.cred); returns the certificate path and records the new
// serial in DIR/issued.log (coordinator/pki_revocation.h). Refuses to replace
// an existing device certificate unless `replace` is set; a replacement
// revokes every earlier certificate of the device first.
absl::StatusOr<std::string> IssueDeviceInFolder(const std::string& dir,
                                                const std::string& device_id, int days,
                                                bool replace = false);

}  // namespace tacit::coordinator
