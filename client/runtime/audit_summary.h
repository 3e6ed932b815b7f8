#pragma once

// The audit log (audit_log.h) read for a person rather than a parser: per
// local day and task, the rounds joined and declined, model downloads,
// check-ins, bytes sent and received, the task's noise level, and the
// epsilon spent on the task by the end of that day, computed here from the
// privacy ledger (privacy_ledger.h). `tacit-client audit` prints it, `--json`
// gives the same rows, and the local privacy page shows them.

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit::runtime {

// What the counted calls carry (README, "Exactly what leaves the laptop"),
// said under every view of the audit log.
inline constexpr const char* kWhatTheCallsCarry =
    "check-ins, model download requests, polls for the round's next message and its result "
    "(ids only), and secure aggregation messages (keys, key shares, the clipped, noised and "
    "masked update); events are never sent";

struct AuditDay {
  std::string day;        // local calendar day, "2026-11-30"
  std::string task;       // "" for check-ins that led to no round
  int64_t joined = 0;     // rounds in which a secure aggregation message left
  int64_t declined = 0;   // rounds refused or paused before anything of the round left
  int64_t failed = 0;     // rounds left before sending (lost connection, training failed)
  int64_t downloads = 0;  // model download calls
  int64_t check_ins = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  std::set<double> noise_multipliers;  // the task's z, as each round line recorded it
  // The epsilon spent on the task by the end of the day (RDP, the larger of
  // released and vs_coordinator, at the owner's delta); -1 when no round of
  // the task is in the ledger by then or for check-in rows.
  double epsilon = -1;
};

// Rows ordered by day, then task. `delta`: the owner's (participation
// policy). Damaged audit lines are skipped as SumAudit skips them.
absl::StatusOr<std::vector<AuditDay>> SummarizeAudit(const std::string& dir, double delta);

nlohmann::json AuditSummaryJson(const std::vector<AuditDay>& days);
void PrintAuditSummary(std::ostream& out, const std::vector<AuditDay>& days);

}  // namespace tacit::runtime
