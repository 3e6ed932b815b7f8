#pragma once

// Random check-ins (Balle, Kairouz, McMahan, Thakkar, Thakurta 2020, "Privacy
// amplification via random check-ins"), enforced by the laptop. With a task's
// dp.sampling "random_check_in", time is cut into windows of
// dp.check_in_window_seconds (window w = floor(unix seconds / length), the
// laptop's own clock). In each window the laptop is eligible in, it flips one
// coin from the OS CSPRNG: with probability dp.check_in_probability it offers
// itself (checks in) during that window, else it stays silent until the next.
// The coin is written to the privacy ledger (fsync'ed) before the laptop acts
// on it and read back afterwards, so the same window is never flipped twice,
// not after a refused seat, a failed round or a restart. A laptop takes part
// in at most one round per window. Each window is then one subsampled release
// with q = p for this laptop (privacy_ledger.h), whatever the coordinator
// does: it can seat fewer of those who offer, never more.
//
// The daemon asks before checking in (for the task it last saw); the round
// runner asks again for the assigned task, so a first assignment, a changed
// task or a crossed window boundary is decided by a coin too.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "client/runtime/privacy_ledger.h"
#include "task/task_config.h"

namespace tacit::runtime {

// The window `unix_ms` falls in for `dp`; -1 without random check-ins.
int64_t CheckInWindow(const DpConfig& dp, int64_t unix_ms);

// A uniform draw in [0, 1); production: SecureUnitRandom (RAND_bytes).
using CoinSource = std::function<absl::StatusOr<double>()>;

struct CheckInDecision {
  bool offer = true;
  int64_t window = -1;  // -1 without random check-ins
  std::string why;      // when not offering: the coin, or a round already joined in the window
};

// May this laptop offer itself for `task` at `unix_ms`? Without random
// check-ins: yes. With them: the window's recorded coin, or a new coin
// appended to <dir>'s ledger (and to `ledger`) first; and no when the ledger
// already has a participation in this window. An error (the CSPRNG or the
// ledger failing) means: do not offer.
absl::StatusOr<CheckInDecision> DecideCheckIn(const std::string& dir, Ledger& ledger,
                                              const TaskConfig& task, int64_t unix_ms,
                                              const CoinSource& coin);

}  // namespace tacit::runtime
