#include "client/runtime/privacy_budget.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tacit::runtime {

std::string DamagedLedgerReason(const Ledger& ledger) {
  if (ledger.damaged.empty()) return "";
  return absl::StrCat(
      "the privacy ledger (", kPrivacyLedgerFile, ") has ", ledger.damaged.size(),
      " damaged line(s) (", absl::StrJoin(ledger.damaged, "; "),
      "), so the epsilon spent is unknown and this laptop takes part in no round; look at the "
      "line(s) and repair them (deleting a line understates what was spent)");
}

absl::Status CheckPrivacyBudget(const ParticipationPolicy& policy, const Ledger& ledger,
                                const TaskConfig& task, int64_t window) {
  if (const std::string damaged = DamagedLedgerReason(ledger); !damaged.empty()) {
    return absl::FailedPreconditionError(damaged);
  }
  if (!policy.max_epsilon) return absl::OkStatus();
  absl::StatusOr<TaskSpending> after =
      SpentOnTask(ledger, task.name, policy.delta, NextRelease{&task, window});
  if (!after.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot compute the epsilon spent on task '",
                                                      task.name, "': ", after.status().message(),
                                                      "; not taking part"));
  }
  if (after->epsilon() > *policy.max_epsilon) {
    absl::StatusOr<TaskSpending> now = SpentOnTask(ledger, task.name, policy.delta);
    return absl::FailedPreconditionError(
        absl::StrCat("privacy budget: task '", task.name, "' has cost this laptop epsilon ",
                     now.ok() ? now->epsilon() : after->epsilon(), " at delta ", policy.delta,
                     " and one more round would make it ", after->epsilon(), ", past max_epsilon ",
                     *policy.max_epsilon, " (", kParticipationPolicyFile,
                     "); this laptop takes no further part in the task"));
  }
  return absl::OkStatus();
}

}  // namespace tacit::runtime
