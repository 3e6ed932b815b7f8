#include "client/runtime/random_check_in.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::runtime {

int64_t CheckInWindow(const DpConfig& dp, int64_t unix_ms) {
  if (dp.sampling != DpSampling::kRandomCheckIn) return -1;
  return static_cast<int64_t>(
      std::floor(static_cast<double>(unix_ms) / 1000.0 / dp.check_in_window_seconds));
}

absl::StatusOr<CheckInDecision> DecideCheckIn(const std::string& dir, Ledger& ledger,
                                              const TaskConfig& task, int64_t unix_ms,
                                              const CoinSource& coin) {
  CheckInDecision decision;
  decision.window = CheckInWindow(task.dp, unix_ms);
  if (decision.window < 0) return decision;
  const double next_window_seconds =
      static_cast<double>(decision.window + 1) * task.dp.check_in_window_seconds -
      static_cast<double>(unix_ms) / 1000.0;
  for (const ParticipationRecord& r : ledger.participations) {
    if (r.task == task.name && r.window == decision.window) {
      decision.offer = false;
      decision.why = absl::StrCat("already took part in round ", r.round, " in random check-in ",
                                  "window ", decision.window, " (at most one round per window); ",
                                  "the next window starts in ",
                                  static_cast<int64_t>(next_window_seconds), " s");
      return decision;
    }
  }
  const CoinRecord* recorded = nullptr;
  for (const CoinRecord& c : ledger.coins) {
    if (c.task == task.name && c.window == decision.window) recorded = &c;
  }
  if (recorded == nullptr) {
    TACIT_ASSIGN_OR_RETURN(double draw, coin());
    CoinRecord flipped;
    flipped.task = task.name;
    flipped.window = decision.window;
    flipped.window_seconds = task.dp.check_in_window_seconds;
    flipped.probability = task.dp.check_in_probability;
    flipped.offered = draw < task.dp.check_in_probability;
    flipped.noise_multiplier = task.dp.noise_multiplier;
    flipped.mechanism = LedgerMechanismOf(task);
    // Recorded before it is acted on: a coin not in the ledger was never used.
    TACIT_RETURN_IF_ERROR(AppendCoin(dir, flipped));
    ledger.coins.push_back(std::move(flipped));
    recorded = &ledger.coins.back();
  }
  decision.offer = recorded->offered;
  if (!decision.offer) {
    decision.why =
        absl::StrCat("random check-in: this window's coin (probability ", recorded->probability,
                     ") said sit out window ", decision.window, "; the next window starts in ",
                     static_cast<int64_t>(next_window_seconds), " s");
  }
  return decision;
}

}  // namespace tacit::runtime
