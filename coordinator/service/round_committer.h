#pragma once

// Ends round attempts durably. A committed round's mean update goes through
// the server optimizer (coordinator/round/global_model.h); then the
// checkpoint, the round's privacy facts (typed columns) and its metrics go to
// the StateStore in one commit. An abandoned round never touches the model.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/round/global_model.h"
#include "coordinator/round/secure_round.h"
#include "coordinator/service/round_summary.h"
#include "coordinator/state_store.h"
#include "spdlog/logger.h"

namespace tacit::coordinator {

class RoundCommitter {
 public:
  // `population`: the devices every cohort is sampled from (the DP sampling
  // rate's denominator), recorded with each committed round.
  RoundCommitter(StateStore* store, int64_t task_id, int64_t population,
                 std::shared_ptr<spdlog::logger> log)
      : store_(store), task_id_(task_id), population_(population), log_(std::move(log)) {}

  // Applies `aggregate` to `model` and commits round `record` with
  // `summary` (the attempt's figures; its cohort_size is what the privacy
  // accountant composes). Returns the summary completed with the outcome,
  // epsilon and evaluation. FailedPrecondition when the server optimizer
  // refuses the update: nothing changed, abandon the attempt. When the store
  // fails after the model moved, the process aborts: a restart resumes from
  // the previous version rather than serve a model that is not on disk.
  absl::StatusOr<RoundSummary> Commit(GlobalModel& model, const RoundRecord& record,
                                      const RoundAggregate& aggregate, RoundSummary summary);

  absl::Status Abandon(const RoundRecord& record, const std::string& reason);
  absl::Status RecordParticipants(const RoundRecord& record,
                                  const std::vector<ParticipantRecord>& participants);

 private:
  StateStore* store_;
  int64_t task_id_;
  int64_t population_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tacit::coordinator
