#pragma once

// The owner's privacy budget (participation_policy.h max_epsilon, at the
// policy's delta) against the laptop's own ledger (privacy_ledger.h): the
// daemon asks before it checks in, the round runner again before anything is
// downloaded for an assigned round. Refuses when the ledger has a damaged
// line (the spending is unknown until the owner looks at it) and when one more
// round of the task would take the epsilon spent on it past the budget, so
// the budget is never exceeded, only approached.

#include <cstdint>

#include "absl/status/status.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_ledger.h"
#include "task/task_config.h"

namespace tacit::runtime {

// FailedPrecondition saying why, else OK. `window`: the random check-in
// window the round would fall in (-1 without random check-ins).
absl::Status CheckPrivacyBudget(const ParticipationPolicy& policy, const Ledger& ledger,
                                const TaskConfig& task, int64_t window);

// "line 3: ...; line 9: ..." with what the owner should do, for refusals and
// `tacit-client privacy`; empty when nothing is damaged.
std::string DamagedLedgerReason(const Ledger& ledger);

}  // namespace tacit::runtime
