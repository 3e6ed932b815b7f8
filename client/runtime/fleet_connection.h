#pragma once

// The daemon's connection to its coordinator, open only while the daemon
// means to talk to it. A gRPC channel whose connection failed redials by
// itself (TRANSIENT_FAILURE, paced by fleet_channel.cc's reconnect
// backoff), and every dial is a TLS handshake showing the device
// certificate: closing the channel is the only way to stop them. The
// daemon closes it while it will not check in (paused by the owner,
// ineligible, no data, a cap or the privacy budget) and opens a new one
// for the next check-in.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "client/runtime/coordinator_pin.h"
#include "client/runtime/enrollment.h"
#include "tacit/v1/federation.grpc.pb.h"

namespace tacit::runtime {

class FleetConnection {
 public:
  // `enrollment` must outlive the connection; every channel it opens
  // records its TLS handshakes' checks in `handshakes` (fleet_channel.h).
  FleetConnection(const Enrollment& enrollment, std::shared_ptr<CoordinatorHandshakes> handshakes)
      : enrollment_(enrollment), handshakes_(std::move(handshakes)) {}

  // Open a channel (OpenFleetChannel) when none is; no connection is made
  // until a call or a wait asks for one.
  grpc::Channel& channel();
  v1::Federation::Stub& stub();
  // Drops the channel and its stub: gRPC dials no more for it.
  void Close();

 private:
  void Open();

  const Enrollment& enrollment_;
  std::shared_ptr<CoordinatorHandshakes> handshakes_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Federation::Stub> stub_;
};

}  // namespace tacit::runtime
