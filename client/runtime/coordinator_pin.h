#pragma once

// The laptop's own check of the coordinator (docs/threat_model.md: the
// employer runs both the coordinator and the CA, so a certificate the CA
// signed proves little on its own). `enroll` makes a TLS handshake to the
// coordinator's address, shows the SHA-256 fingerprint of the certificate it
// presented and pins it in the client's state; the daemon then refuses a
// coordinator that presents any other certificate, with a clear error, and
// `enroll` refuses an address where no coordinator answers.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/runtime/enrollment.h"

namespace tacit::runtime {

// SHA-256 of the certificate's DER encoding, as `openssl x509 -fingerprint
// -sha256` prints it: 32 upper-case hex bytes joined by colons.
absl::StatusOr<std::string> CertificateFingerprint(const std::string& cert_pem);

// A mutual TLS handshake with the enrolled coordinator (the device's
// certificate and key, the chain checked against the fleet CA, the name
// checked against server_name or else the host), then the connection is
// closed: no application data is sent. Returns the certificate the
// coordinator presented, in PEM. Unavailable naming the address when it
// cannot be reached within `timeout_seconds`; PermissionDenied when the
// handshake fails (certificate not from the fleet CA, wrong name, device
// refused).
absl::StatusOr<std::string> FetchCoordinatorCertificate(const Enrollment& enrollment,
                                                        double timeout_seconds);

// OK when `presented_pem` is the certificate `pinned` names (a fingerprint);
// PermissionDenied with both fingerprints and what to do otherwise.
absl::Status CheckPinnedCertificate(const std::string& pinned, const std::string& presented_pem);

}  // namespace tacit::runtime
