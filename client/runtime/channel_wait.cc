#include "client/runtime/channel_wait.h"

#include <algorithm>
#include <chrono>

#include "client/control_state.h"

namespace tacit::runtime {
namespace {

// As the round runner reads it: an unreadable control file counts as paused.
bool TrainingPaused(const std::string& client_dir) {
  absl::StatusOr<ControlState> control = LoadControlState(client_dir);
  return !control.ok() || control->training_paused;
}

}  // namespace

WaitEnd SleepUnlessReconnected(grpc::Channel& channel, double seconds,
                               const std::atomic<bool>& stop, const std::string& client_dir) {
  using Clock = std::chrono::steady_clock;
  const auto until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  // gRPC's states: IDLE has no connection and attempts none until asked
  // (GetState(true) starts a TLS handshake); CONNECTING is an attempt in
  // progress; TRANSIENT_FAILURE failed and gRPC retries by itself after its
  // backoff; READY is connected. IDLE is therefore not "down": a channel
  // that was never connected, or whose connection idled out, says nothing
  // about the coordinator, and asking it to connect would be this wait's own
  // dial. Only a READY connection lost during the wait is asked back.
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/false);
  bool was_down = state != GRPC_CHANNEL_READY;
  bool was_up = state == GRPC_CHANNEL_READY;
  auto next_pause_check = Clock::now();
  while (!stop.load() && Clock::now() < until) {
    if (Clock::now() >= next_pause_check) {
      if (TrainingPaused(client_dir)) return WaitEnd::kPaused;
      next_pause_check = Clock::now() + std::chrono::milliseconds(250);
    }
    const bool lost = was_up && state == GRPC_CHANNEL_IDLE;
    state = channel.GetState(/*try_to_connect=*/lost);
    if (state == GRPC_CHANNEL_READY) {
      if (was_down) return WaitEnd::kReconnected;
      was_up = true;
    } else {
      was_down = true;
    }
    // Waiting on the channel (not sleeping beside it) is what drives its
    // connection attempt: a channel nobody waits on advances only with
    // gRPC's 5 s backup poller (grpc/grpc#28866), which over the fleet's TLS
    // channel kept a restarted coordinator "unreachable" for ~15 s after it
    // served (issue 19).
    const auto step_end = std::min(until, Clock::now() + std::chrono::milliseconds(50));
    const auto step =
        std::chrono::duration_cast<std::chrono::microseconds>(step_end - Clock::now());
    if (step.count() > 0) {
      (void)channel.WaitForStateChange(state, std::chrono::system_clock::now() + step);
    }
  }
  return WaitEnd::kFullWait;
}

}  // namespace tacit::runtime
