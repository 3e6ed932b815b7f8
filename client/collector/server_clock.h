#pragma once

// X server timestamps -> wall-clock milliseconds. The collector reads its
// socket at most every few tens of milliseconds (many events per wake-up),
// so an event's time comes from the server's timestamp, not from when it was
// read. Pure.

#include <cstdint>

namespace tacit::collector {

class ServerClock {
 public:
  // `server_ms`: the event's X timestamp (milliseconds, wrapping at 2^32);
  // `wall_now_ms`: the wall clock when it was read. wall - server is the
  // clock offset plus the delivery delay (never negative), so the smallest
  // seen is the best estimate of the offset. A much larger one means the
  // wall clock jumped forward or the server's clock wrapped: start over.
  int64_t ToWallMs(uint32_t server_ms, int64_t wall_now_ms) {
    const int64_t candidate = wall_now_ms - static_cast<int64_t>(server_ms);
    if (!known_ || candidate < offset_ || candidate > offset_ + kMaxDelayMs) {
      offset_ = candidate;
      known_ = true;
    }
    return static_cast<int64_t>(server_ms) + offset_;
  }

 private:
  static constexpr int64_t kMaxDelayMs = 2000;
  int64_t offset_ = 0;
  bool known_ = false;
};

}  // namespace tacit::collector
