#pragma once

// The fleet client's waits between check-ins (a backoff after a failure, a
// coordinator's retry-after) end early when the connection to the
// coordinator comes (back) up. After a coordinator restart a laptop would
// otherwise sleep out a backoff grown while the port was down, or a retry
// time the dead coordinator gave, and the restarted round would seat only
// laptops that happen to wake: issue 19 measured 14 s of "Connection
// refused" after the port was up, and a restarted round waiting 146 s.

#include <grpcpp/grpcpp.h>

#include <atomic>

namespace tacit::runtime {

// Sleeps up to `seconds` (in small steps; `stop` ends it at once). Returns
// true early when `channel` becomes READY after having been not READY at
// the start or at any point of the wait (the coordinator came back), false
// after the full wait. While the channel is down it asks gRPC to reconnect,
// paced by the channel's own reconnect backoff (fleet_channel.cc). Known
// gap: over the fleet's TLS channel a restarted coordinator was seen as
// ready only ~15 s after it served (issue 19); the wake follows that.
bool SleepUnlessReconnected(grpc::Channel& channel, double seconds, const std::atomic<bool>& stop);

}  // namespace tacit::runtime
