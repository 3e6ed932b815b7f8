#pragma once

// The fleet client's connection to its coordinator: gRPC over TLS with the
// device certificate as client identity (mutual TLS). Every TLS handshake
// verifies the coordinator's chain against the fleet CA of the enrollment,
// then the laptop's own check (coordinator_pin.h: the name dialled and the
// pinned certificate) before the connection carries a byte of any call: a
// refused coordinator receives no request, whichever RPC it is. Used by the
// daemon, by `enroll`, and by tacit-sim's gRPC transport, whose simulated
// people connect exactly like laptops.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/runtime/coordinator_pin.h"
#include "client/runtime/enrollment.h"

namespace tacit::runtime {

// Each channel holds its own connection (no subchannel shared with other
// channels of the process), as a laptop would. `handshakes`, when given,
// records what the checks saw (why calls fail on a refused coordinator).
std::shared_ptr<grpc::Channel> OpenFleetChannel(
    const Enrollment& enrollment, std::shared_ptr<CoordinatorHandshakes> handshakes = nullptr);

// Connects to the enrolled coordinator without making any call (only the TLS
// handshake: chain and name checked, not a pin) and returns the certificate
// it presented, in PEM. PermissionDenied with the reason when the laptop's
// check refused it; Unavailable naming the address when no handshake
// succeeded within `timeout_seconds` (nothing answers, or the TLS handshake
// failed: a certificate not from the fleet CA, or the device refused).
absl::StatusOr<std::string> FetchCoordinatorCertificate(const Enrollment& enrollment,
                                                        double timeout_seconds);

}  // namespace tacit::runtime
