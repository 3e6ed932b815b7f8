#pragma once

// The device behind a gRPC call: the TLS client certificate the channel was
// authenticated with, verified against the fleet CA (coordinator/pki.h). A
// request never names its own device; the certificate does. Verified
// certificates are cached by their PEM text, so a busy client costs one
// signature check per connection, not per call.

#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace tacit::coordinator {

class PeerIdentity {
 public:
  explicit PeerIdentity(std::string ca_cert_pem) : ca_cert_pem_(std::move(ca_cert_pem)) {}

  // Unauthenticated when the call carries no client certificate or one the
  // fleet CA did not issue for a device.
  absl::StatusOr<std::string> DeviceOf(const grpc::ServerContextBase& context);

 private:
  static constexpr size_t kCacheLimit = 100000;
  const std::string ca_cert_pem_;
  std::mutex mu_;
  std::map<std::string, std::string> verified_;  // PEM -> device id
};

}  // namespace tacit::coordinator
