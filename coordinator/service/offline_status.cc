#include "coordinator/service/offline_status.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/round/global_model.h"
#include "coordinator/service/status_view.h"
#include "coordinator/state_store.h"
#include "task/task_config.h"

namespace tacit::coordinator {
namespace {

// The round as LastRoundJson writes it: the metrics stored with it, its
// number, outcome and, when abandoned, why.
nlohmann::json LastRoundOf(const RoundRecord& r) {
  nlohmann::json m = r.metrics.is_object() ? r.metrics : nlohmann::json::object();
  m["round"] = r.round_number;
  m["attempt"] = r.attempt;
  m["outcome"] = RoundStatusName(r.status);
  if (r.status == RoundStatus::kAbandoned) m["reason"] = r.note;
  return m;
}

}  // namespace

absl::StatusOr<nlohmann::json> OfflineStatusJson(const std::string& state_dir) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, StateStore::OpenForReading(state_dir));
  TACIT_ASSIGN_OR_RETURN(std::vector<StateStore::TaskRecord> tasks, store->Tasks());
  if (tasks.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the state folder ", state_dir, " holds no task yet; `tacit-coordinator serve` adds it"));
  }
  const StateStore::TaskRecord& record = tasks.back();
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(record.config);
  if (!task.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task '", record.name, "' in the state does not parse (", task.status().message(), ")"));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<RoundRecord> rounds, store->Rounds(record.id));
  CoordinatorStatus status;
  status.task = task->name;
  status.rounds = task->rounds;
  status.dp = task->dp;
  status.server_optimizer = ServerOptimizerName(task->server_optimizer.type);
  const RoundRecord* last_ended = nullptr;
  const RoundRecord* in_flight = nullptr;
  for (const RoundRecord& r : rounds) {
    if (r.status == RoundStatus::kCommitted) {
      status.model_version = std::max(status.model_version, r.round_number);
      if (auto it = r.metrics.find("evaluation"); it != r.metrics.end()) {
        absl::StatusOr<EvaluationReport> report = EvaluationReportFromJson(*it);
        if (report.ok() && report->evaluation.sums.predictions > 0) {
          status.last_evaluation = *report;
        }
      }
    }
    if (r.status == RoundStatus::kInFlight) {
      in_flight = &r;
    } else {
      last_ended = &r;
    }
  }
  TACIT_ASSIGN_OR_RETURN(status.epsilon, ProjectedEpsilon(*task, status.model_version));
  status.done = status.model_version >= task->rounds;
  nlohmann::json s = StatusJson(status);
  s.erase("server_lr");  // lives in the checkpoint's optimizer state, not read here
  if (in_flight != nullptr) {
    s["round"] = in_flight->round_number;
    s["round_id"] = in_flight->id;
    s["attempt"] = in_flight->attempt;
    s["phase"] = "in_flight";
  }
  if (last_ended != nullptr) s["last_round"] = LastRoundOf(*last_ended);
  s["source"] = "state folder";
  s["tasks"] = tasks.size();
  return s;
}

}  // namespace tacit::coordinator
