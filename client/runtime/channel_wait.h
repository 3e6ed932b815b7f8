#pragma once

// The fleet client's waits between check-ins (a backoff after a failure, a
// coordinator's retry-after) end early when the connection to the
// coordinator comes (back) up. After a coordinator restart a laptop would
// otherwise sleep out a backoff grown while the port was down, or a retry
// time the dead coordinator gave, and the restarted round would seat only
// laptops that happen to wake: issue 19 measured 14 s of "Connection
// refused" after the port was up, and a restarted round waiting 146 s.
//
// Every connection attempt is a TLS handshake showing the device
// certificate to the coordinator (the laptop is on, and from where), and
// no RPC: the audit log, which counts RPCs, does not list them; the README
// ("what leaves the laptop") says when they happen. So the wait dials only
// to learn whether a coordinator that dropped the connection is back, and
// never while the owner has paused training.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>

namespace tacit::runtime {

enum class WaitEnd {
  kFullWait,     // the time passed (or `stop` was set)
  kReconnected,  // the coordinator is reachable again
  kPaused,       // the owner paused training (or the control file is unreadable)
};

// Sleeps up to `seconds` (in small steps; `stop` ends it at once), reading
// the owner's pause (<client_dir>/control.json, client/control_state.h)
// about four times a second: paused, it returns kPaused at once, having
// asked for no connection, so the caller can close the channel (a channel
// in TRANSIENT_FAILURE redials by itself, paced by its reconnect backoff:
// fleet_channel.cc). kReconnected when `channel` becomes READY after having
// been not READY at the start or at some point of the wait. It asks gRPC to
// connect only after the connection it had dropped during the wait (READY,
// then IDLE: the coordinator closed it, e.g. a restart); a channel IDLE
// from the start had no connection to lose and is left alone. Between
// reads it waits on the channel's state (WaitForStateChange), which is what
// drives a redial: a wait that slept beside the channel saw a restarted
// coordinator only ~15 s after it served (issue 19).
WaitEnd SleepUnlessReconnected(grpc::Channel& channel, double seconds,
                               const std::atomic<bool>& stop, const std::string& client_dir);

}  // namespace tacit::runtime
