#include "client/runtime/fleet_connection.h"

#include "client/runtime/fleet_channel.h"

namespace tacit::runtime {

void FleetConnection::Open() {
  if (channel_ != nullptr) return;
  channel_ = OpenFleetChannel(enrollment_, handshakes_);
  stub_ = v1::Federation::NewStub(channel_);
}

grpc::Channel& FleetConnection::channel() {
  Open();
  return *channel_;
}

v1::Federation::Stub& FleetConnection::stub() {
  Open();
  return *stub_;
}

void FleetConnection::Close() {
  // The stub holds the channel too: both go.
  stub_.reset();
  channel_.reset();
}

}  // namespace tacit::runtime
