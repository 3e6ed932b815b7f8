#include "coordinator/service/peer_identity.h"

#include <grpc/grpc_security_constants.h>

#include "coordinator/pki.h"

namespace tacit::coordinator {

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
  std::string pem(certs.front().data(), certs.front().size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto hit = verified_.find(pem);
    if (hit != verified_.end()) return hit->second;
  }
  absl::StatusOr<std::string> device = VerifyDeviceCertificate(pem, ca_cert_pem_);
  if (!device.ok()) return device.status();
  std::lock_guard<std::mutex> lock(mu_);
  // Expired certificates must be noticed again: a full cache starts over.
  if (verified_.size() >= kCacheLimit) verified_.clear();
  verified_[pem] = *device;
  return device;
}

}  // namespace tacit::coordinator
