#include "coordinator/service/task_resume.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "models/parameter_layout.h"

namespace tacit::coordinator {

absl::StatusOr<std::vector<int>> CommittedCohortSizes(const std::vector<RoundRecord>& rounds,
                                                      int64_t version, int64_t population,
                                                      std::vector<int64_t>* unrecorded_population) {
  std::map<int64_t, const RoundRecord*> committed;  // by round number
  for (const RoundRecord& r : rounds) {
    if (r.status != RoundStatus::kCommitted || r.round_number < 1 || r.round_number > version) {
      continue;
    }
    if (!committed.emplace(r.round_number, &r).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("round ", r.round_number, " is committed twice in the state (round ids ",
                       committed[r.round_number]->id, " and ", r.id,
                       "); the state is inconsistent: restore it from a backup"));
    }
  }
  std::vector<int> sizes;
  for (int64_t number = 1; number <= version; ++number) {
    auto it = committed.find(number);
    if (it == committed.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "round ", number, " has no committed record though checkpoint v", version,
          " builds on it, so the privacy spent cannot be re-composed; restore the state from a "
          "backup"));
    }
    const RoundRecord& r = *it->second;
    if (!r.cohort_size || *r.cohort_size < 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "committed round ", number, " (round id ", r.id,
          ") has no cohort size in the state, so the privacy spent cannot be re-composed; "
          "restore the state from a backup"));
    }
    if (r.population && *r.population != population) {
      return absl::FailedPreconditionError(
          absl::StrCat("committed round ", number, " sampled its cohort from a population of ",
                       *r.population, " but this coordinator runs with --population ", population,
                       "; restart with --population ", *r.population,
                       " so epsilon is composed at the sampling rate that was spent"));
    }
    if (!r.population && unrecorded_population != nullptr) {
      unrecorded_population->push_back(number);
    }
    sizes.push_back(*r.cohort_size);
  }
  return sizes;
}

absl::StatusOr<ResumedTask> ResumeTask(const TaskConfig& task, StateStore& store, int64_t task_id,
                                       int64_t population, const ::tacit::ModelConfig& model,
                                       uint64_t initial_seed) {
  ResumedTask resumed;
  TACIT_ASSIGN_OR_RETURN(ResumePoint resume, store.Resume(task_id));
  resumed.refused = resume.refused;
  if (!resume.checkpoint) {
    TACIT_ASSIGN_OR_RETURN(std::vector<float> initial, InitialParameters(model, initial_seed));
    TACIT_ASSIGN_OR_RETURN(GlobalModel fresh,
                           GlobalModel::Create(task, std::move(initial), population));
    resumed.model = std::make_unique<GlobalModel>(std::move(fresh));
    Checkpoint checkpoint{task_id, 0, resumed.model->parameters(),
                          resumed.model->optimizer().SerializeState()};
    TACIT_RETURN_IF_ERROR(store.CommitInitialModel(checkpoint).status());
    return resumed;
  }
  const int64_t version = resume.checkpoint->version;
  TACIT_ASSIGN_OR_RETURN(std::vector<RoundRecord> rounds, store.Rounds(task_id));
  std::vector<int64_t> unrecorded;
  TACIT_ASSIGN_OR_RETURN(std::vector<int> cohorts,
                         CommittedCohortSizes(rounds, version, population, &unrecorded));
  if (!unrecorded.empty()) {
    resumed.warnings.push_back(absl::StrCat(
        "rounds ", absl::StrJoin(unrecorded, ", "),
        " were committed before the population was recorded; their privacy cost is composed "
        "with this coordinator's population ",
        population));
  }
  TACIT_ASSIGN_OR_RETURN(
      GlobalModel restored,
      GlobalModel::Restore(task, std::move(resume.checkpoint->model), version,
                           resume.checkpoint->optimizer_state, population, cohorts));
  resumed.model = std::make_unique<GlobalModel>(std::move(restored));
  // The latest evaluation with predictions behind it, in round order.
  std::sort(rounds.begin(), rounds.end(), [](const RoundRecord& a, const RoundRecord& b) {
    return a.round_number < b.round_number;
  });
  for (const RoundRecord& r : rounds) {
    if (r.status != RoundStatus::kCommitted || r.round_number > version ||
        !r.metrics.contains("evaluation")) {
      continue;
    }
    absl::StatusOr<EvaluationReport> report = EvaluationReportFromJson(r.metrics["evaluation"]);
    if (!report.ok()) {
      resumed.warnings.push_back(absl::StrCat(
          "round ", r.round_number, "'s evaluation is not shown: ", report.status().message()));
      continue;
    }
    if (report->evaluation.sums.predictions > 0) resumed.last_evaluation = *std::move(report);
  }
  return resumed;
}

}  // namespace tacit::coordinator
