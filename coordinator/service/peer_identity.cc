#include "coordinator/service/peer_identity.h"

#include <grpc/grpc_security_constants.h>

#include "coordinator/pki.h"

namespace tacit::coordinator {

PeerIdentity::PeerIdentity(std::string ca_cert_pem, std::string revocation_dir)
    : ca_cert_pem_(std::move(ca_cert_pem)),
      revocations_(revocation_dir.empty()
                       ? nullptr
                       : std::make_unique<RevocationList>(std::move(revocation_dir))) {}

absl::StatusOr<PeerIdentity::Verified> PeerIdentity::Verify(const std::string& pem) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto hit = verified_.find(pem);
    if (hit != verified_.end()) return hit->second;
  }
  Verified verified;
  absl::StatusOr<std::string> device = VerifyDeviceCertificate(pem, ca_cert_pem_);
  if (!device.ok()) return device.status();
  verified.device = *std::move(device);
  absl::StatusOr<std::string> serial = CertificateSerialHex(pem);
  if (!serial.ok()) return absl::UnauthenticatedError(serial.status().message());
  verified.serial_hex = *std::move(serial);
  std::lock_guard<std::mutex> lock(mu_);
  // Expired certificates must be noticed again: a full cache starts over.
  if (verified_.size() >= kCacheLimit) verified_.clear();
  verified_[pem] = verified;
  return verified;
}

absl::StatusOr<std::string> PeerIdentity::DeviceOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError(
        "the call carries no TLS client certificate; enroll the device with a certificate "
        "from the fleet CA (tacit-coordinator pki issue DEVICE)");
  }
  std::vector<grpc::string_ref> certs = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (certs.empty()) {
    return absl::UnauthenticatedError("the TLS peer presented no certificate");
  }
  absl::StatusOr<Verified> verified =
      Verify(std::string(certs.front().data(), certs.front().size()));
  if (!verified.ok()) return verified.status();
  // Checked on every call, cached or not: a revocation takes effect at once.
  if (revocations_ != nullptr) {
    absl::Status allowed = revocations_->Check(verified->serial_hex, verified->device);
    if (!allowed.ok()) return allowed;
  }
  return verified->device;
}

}  // namespace tacit::coordinator
