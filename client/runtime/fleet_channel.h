#pragma once

// The fleet client's connection to its coordinator: gRPC over TLS with the
// device certificate as client identity (mutual TLS), checked against the
// fleet CA of the enrollment. Used by the daemon and by tacit-sim's gRPC
// transport, whose simulated people connect exactly like laptops.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "client/runtime/enrollment.h"

namespace tacit::runtime {

// Each channel holds its own connection (no subchannel shared with other
// channels of the process), as a laptop would.
std::shared_ptr<grpc::Channel> OpenFleetChannel(const Enrollment& enrollment);

}  // namespace tacit::runtime
