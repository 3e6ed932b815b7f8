#pragma once

// The seats of one round attempt: which verified device holds which client
// id and session token, the session check every later call goes through, and
// who has left the round (where and why). No clock and no I/O; the session
// tokens come from an injected source so tests can fix them.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::coordinator {

// One selected device's seat in one round attempt.
struct Seat {
  std::string device;
  uint32_t client_id = 0;  // 1-based, in seating order
  std::string session;
  bool out = false;            // dropped or rejected: no more messages for it
  std::string drop_phase;      // where it left
  std::string drop_reason;     // why
  bool drop_reported = false;  // TakeNewDrops returned it
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
};

// Draws a fresh session token (production: 16 bytes from RAND_bytes).
using SessionSource = std::function<absl::StatusOr<std::string>()>;
SessionSource RandomSessions();

class SeatRegistry {
 public:
  explicit SeatRegistry(SessionSource sessions) : sessions_(std::move(sessions)) {}

  // The seat `device` holds, or null.
  const Seat* Find(const std::string& device) const;
  // Seats `device` with the next client id and a fresh session;
  // AlreadyExists when it holds a seat, or the session source's error.
  absl::StatusOr<const Seat*> Add(const std::string& device);

  // The seat named by a call: `device` (the TLS peer) must hold a seat in
  // round `round_id` and `session` must be that seat's token (compared in
  // constant time). Refusals "not_seated" and "bad_session".
  absl::StatusOr<Seat*> Check(const std::string& device, const std::string& session,
                              uint64_t round_id);

  Seat* ByClientId(uint32_t client_id);
  // Marks the seat out (when it is not already) with where and why it left.
  void Drop(uint32_t client_id, const std::string& phase, const std::string& reason);

  // In seating order. Seats live in a deque, so a Seat* from Add, Check or
  // ByClientId stays valid while later devices are seated.
  // Seats dropped since the last call (each returned once), for the log:
  // an operator must see which device left where, not only per-phase counts.
  std::vector<Seat> TakeNewDrops();

  const std::deque<Seat>& seats() const { return seats_; }
  size_t size() const { return seats_.size(); }
  int dropped() const;
  std::vector<uint32_t> client_ids() const;

 private:
  SessionSource sessions_;
  std::deque<Seat> seats_;
  std::map<std::string, size_t> by_device_;
};

}  // namespace tacit::coordinator
