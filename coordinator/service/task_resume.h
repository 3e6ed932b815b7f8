#pragma once

// Where a task continues when the coordinator (re)starts: the global model
// from the latest intact checkpoint, with the privacy spent so far
// re-composed from the typed cohort_size (and population) of every committed
// round; or a fresh version-0 model. Also the last federated evaluation, for
// /status and the eval gauges.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/round/global_model.h"
#include "coordinator/service/round_summary.h"
#include "coordinator/state_store.h"
#include "models/model_config.h"
#include "task/task_config.h"

namespace tacit::coordinator {

struct ResumedTask {
  std::unique_ptr<GlobalModel> model;
  std::optional<EvaluationReport> last_evaluation;  // the latest with predictions
  std::vector<std::string> refused;                 // checkpoints refused as corrupt, with reasons
  std::vector<std::string> warnings;                // for the log: what else was skipped and why
};

// The cohort sizes of committed rounds 1..version, in round order, for the
// privacy accountant. FailedPrecondition naming the round when a round in
// 1..version has no committed record or no cohort size, or was committed
// with a population other than `population` (epsilon would be composed at
// the wrong sampling rate). Rounds committed before the population was
// recorded are accepted and listed in `*unrecorded_population`.
absl::StatusOr<std::vector<int>> CommittedCohortSizes(const std::vector<RoundRecord>& rounds,
                                                      int64_t version, int64_t population,
                                                      std::vector<int64_t>* unrecorded_population);

// Resumes task `task_id` from `store`, or creates and commits its version-0
// model (from `initial_seed`) when it has no checkpoint yet.
absl::StatusOr<ResumedTask> ResumeTask(const TaskConfig& task, StateStore& store, int64_t task_id,
                                       int64_t population, const ::tacit::ModelConfig& model,
                                       uint64_t initial_seed);

}  // namespace tacit::coordinator
