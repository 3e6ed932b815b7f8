#include "client/runtime/channel_wait.h"

#include <chrono>
#include <thread>

namespace tacit::runtime {

bool SleepUnlessReconnected(grpc::Channel& channel, double seconds, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  bool was_down = channel.GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    // A connection that went away is idle until asked to connect again.
    const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/was_down);
    if (state == GRPC_CHANNEL_READY) {
      if (was_down) return true;
    } else {
      was_down = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace tacit::runtime
