#pragma once

// The device behind a gRPC call: the TLS client certificate the channel was
// authenticated with, verified against the fleet CA (coordinator/pki.h) and,
// on every call, checked against the operator's serial denylist
// (coordinator/pki_revocation.h), so a revoked device is refused even on a
// connection it opened before the revocation. A request never names its own
// device; the certificate does. Verified certificates are cached by their
// PEM text, so a busy client costs one signature check per connection, not
// per call; the denylist check is a set lookup (and a stat of the file).

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/pki_revocation.h"
#include "grpcpp/server_context.h"

namespace tacit::coordinator {

class PeerIdentity {
 public:
  // `revocation_dir`: the PKI folder whose revoked.txt lists revoked serials;
  // empty: no denylist (in-process simulations without revocations).
  explicit PeerIdentity(std::string ca_cert_pem, std::string revocation_dir = "");

  // Unauthenticated when the call carries no client certificate or one the
  // fleet CA did not issue for a device; PermissionDenied when its serial is
  // revoked; Unavailable when the denylist cannot be read (fails closed).
  absl::StatusOr<std::string> DeviceOf(const grpc::ServerContextBase& context);

 private:
  struct Verified {
    std::string device;
    std::string serial_hex;
  };
  absl::StatusOr<Verified> Verify(const std::string& pem);

  static constexpr size_t kCacheLimit = 100000;
  const std::string ca_cert_pem_;
  std::unique_ptr<RevocationList> revocations_;  // null: none
  std::mutex mu_;
  std::map<std::string, Verified> verified_;  // PEM -> device id and serial
};

}  // namespace tacit::coordinator
