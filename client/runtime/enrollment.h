#pragma once

// A laptop's membership in a fleet: the coordinator's address, the fleet CA
// that signed the coordinator's certificate, and this device's certificate
// and key, and the device's pseudonymous SecAgg credential (all issued
// together by `tacit-coordinator pki issue DEVICE`; secure_agg/credential.h).
// Stored in <client dir>/fleet/: ca.crt, device.crt, device.key (0600),
// secagg.cred, fleet.json.

#include <string>

#include "absl/status/statusor.h"

namespace tacit::runtime {

struct Enrollment {
  std::string coordinator;  // HOST:PORT
  std::string device_id;    // the certificate's CN
  std::string server_name;  // TLS name to expect; empty: the coordinator's host
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  // The SecAgg credential's bytes; empty for an enrollment made before
  // credentials existed (such a device must be re-issued to join rounds).
  std::string credential;
  // SHA-256 of the coordinator's certificate (coordinator_pin.h), pinned at
  // enrollment; empty for an enrollment made before pinning existed.
  std::string server_sha256;
};

// The folder an enrollment is staged in before SaveEnrollment swaps it with
// fleet/ (left only by an interrupted enroll; wiped by the next one and by
// `leave`).
inline constexpr char kStagedFleetDir[] = "fleet.staged";

// Reads the files into memory and checks that the key belongs to the
// certificate, that the certificate names a device, and that the credential
// is for the same key, unexpired and signed by the CA. Writes nothing.
// `credential_path` empty: the .cred next to `cert_path` (DEVICE.crt ->
// DEVICE.cred, as `pki issue` writes them). server_sha256 is left empty.
absl::StatusOr<Enrollment> ReadEnrollmentFiles(const std::string& coordinator,
                                               const std::string& ca_path,
                                               const std::string& cert_path,
                                               const std::string& key_path,
                                               const std::string& server_name,
                                               const std::string& credential_path = "");

// Stores `enrollment` (with its pin, when set) in <dir>/fleet/ in one step:
// every file is written and fsync'ed in <dir>/fleet.staged/, then the two
// folders are exchanged atomically (renameat2 RENAME_EXCHANGE) and the
// previous enrollment's files, key included, are overwritten and deleted. On
// any error before the exchange the previous enrollment is untouched and no
// new file is left behind.
absl::Status SaveEnrollment(const std::string& dir, const Enrollment& enrollment);

// ReadEnrollmentFiles then SaveEnrollment, unpinned (tests and tacit-sim,
// which connect to a coordinator they started).
absl::Status Enroll(const std::string& dir, const std::string& coordinator,
                    const std::string& ca_path, const std::string& cert_path,
                    const std::string& key_path, const std::string& server_name,
                    const std::string& credential_path = "");

// FailedPrecondition with what to run when the device is not enrolled.
absl::StatusOr<Enrollment> LoadEnrollment(const std::string& dir);

// The subject CN of a PEM certificate.
absl::StatusOr<std::string> CertificateCommonName(const std::string& cert_pem);

}  // namespace tacit::runtime
