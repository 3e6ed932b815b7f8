#include "coordinator/service/round_committer.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "coordinator/structured_log.h"

namespace tacit::coordinator {

absl::StatusOr<RoundSummary> RoundCommitter::Commit(GlobalModel& model, const RoundRecord& record,
                                                    const RoundAggregate& aggregate,
                                                    RoundSummary summary) {
  absl::Status applied = model.ApplyRound(aggregate.mean_update, summary.cohort_size);
  if (!applied.ok()) {
    // ApplyRound changes nothing when it refuses.
    return absl::FailedPreconditionError(
        absl::StrCat("the server optimizer refused the update: ", applied.message()));
  }
  summary.outcome = AttemptOutcome::kCommitted;
  summary.reason.clear();
  summary.epsilon = model.epsilon();
  if (aggregate.evaluation) {
    // The cohort scored the model it downloaded: the version before this round.
    summary.evaluation = EvaluationReport{model.version() - 1, *aggregate.evaluation};
  }
  Checkpoint checkpoint{task_id_, model.version(), model.parameters(),
                        model.optimizer().SerializeState()};
  absl::StatusOr<ModelVersionRecord> committed =
      store_->CommitRound(record.id, checkpoint, RoundPrivacy{summary.cohort_size, population_},
                          RoundMetricsJson(summary));
  if (!committed.ok()) {
    // The model moved in memory but not on disk: a restart would resume
    // from the previous version, so stop serving rather than diverge.
    LogEvent(
        *log_, spdlog::level::critical, "commit_failed",
        {{"round", record.round_number}, {"error", std::string(committed.status().message())}});
    std::abort();
  }
  return summary;
}

absl::Status RoundCommitter::Abandon(const RoundRecord& record, const std::string& reason) {
  return store_->AbandonRound(record.id, reason);
}

absl::Status RoundCommitter::RecordParticipants(
    const RoundRecord& record, const std::vector<ParticipantRecord>& participants) {
  return store_->RecordParticipants(record.id, participants);
}

}  // namespace tacit::coordinator
