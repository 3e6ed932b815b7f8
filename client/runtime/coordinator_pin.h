#pragma once

// The laptop's own check of the coordinator (docs/threat_model.md: the
// employer runs both the coordinator and the CA, so a certificate the CA
// signed proves little on its own). `enroll` shows the SHA-256 fingerprint
// of the certificate the coordinator presents and pins it in the client's
// state; every TLS handshake of the fleet channel (fleet_channel.h) then
// checks the presented certificate against the pin before the connection
// carries a byte of any call.

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/runtime/enrollment.h"

namespace tacit::runtime {

// SHA-256 of the certificate's DER encoding, as `openssl x509 -fingerprint
// -sha256` prints it: 32 upper-case hex bytes joined by colons.
absl::StatusOr<std::string> CertificateFingerprint(const std::string& cert_pem);

// A fingerprint as given (64 hex digits, colons and case not significant) in
// CertificateFingerprint's form; InvalidArgument for anything else.
absl::StatusOr<std::string> NormalizeFingerprint(const std::string& fingerprint);

// OK when `presented_pem` is the certificate `pinned` names (a fingerprint);
// PermissionDenied with both fingerprints and what to do otherwise. Compared
// in constant time.
absl::Status CheckPinnedCertificate(const std::string& pinned, const std::string& presented_pem);

// The name the coordinator's certificate must carry: the enrollment's
// server_name, else the host of its address ("[v6]:port" gives "v6").
absl::StatusOr<std::string> ExpectedCoordinatorName(const Enrollment& enrollment);

// What the laptop checks of the leaf certificate a coordinator presents,
// once its chain to the fleet CA has been verified: that it names the
// expected host (an IP address against the certificate's IP names, a host
// name against its DNS names) and, when the enrollment has a pin, that it is
// the pinned certificate. An enrollment from before pinning (server_sha256
// empty) is checked by chain and name only. PermissionDenied saying what to do.
absl::Status CheckPresentedCoordinator(const Enrollment& enrollment,
                                       const std::string& presented_pem);

// What the checks of a fleet channel's TLS handshakes saw (they run on
// gRPC's threads): the certificate the last accepted coordinator presented,
// and whether the latest handshake was refused and why.
class CoordinatorHandshakes {
 public:
  void Accepted(const std::string& presented_pem);
  void Refused(const absl::Status& why);

  // Empty before a handshake was accepted.
  std::string last_accepted() const;
  // OK unless the latest handshake was refused by CheckPresentedCoordinator.
  absl::Status latest_refusal() const;
  int64_t refusals() const;

 private:
  mutable std::mutex mu_;
  std::string last_accepted_;
  absl::Status latest_refusal_;
  int64_t refusals_ = 0;
};

}  // namespace tacit::runtime
