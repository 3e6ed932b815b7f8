#pragma once

// The task's rounds: one task's rounds, attempt after attempt. It resumes the
// task, opens attempts in the state store, acts on what an attempt reports
// (an AttemptEvent: record the cohort, commit through the RoundCommitter and
// publish the new model, or abandon and retry) with metrics and logs, and
// keeps the recently finished attempts late calls may still name. Time comes
// in as a value. Not thread-safe: RoundOrchestrator holds its lock around
// every call.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/round/global_model.h"
#include "coordinator/service/model_publisher.h"
#include "coordinator/service/round_attempt.h"
#include "coordinator/service/round_committer.h"
#include "coordinator/service/seat_registry.h"
#include "coordinator/service/service_metrics.h"
#include "coordinator/service/status_view.h"
#include "coordinator/state_store.h"
#include "nlohmann/json.hpp"
#include "spdlog/logger.h"
#include "tacit/v1/federation.pb.h"
#include "task/task_config.h"

namespace tacit::coordinator {

struct OrchestratorOptions {
  int64_t population = 0;         // devices the cohort is sampled from (DP sampling rate)
  uint64_t initial_seed = 1;      // seed of the version-0 parameters
  int64_t max_message_bytes = 0;  // 0 = derived from the model size
  SessionSource sessions;         // session tokens; null = RandomSessions()
  // Checks the identity signatures on advertised keys (the fleet CA's
  // secagg::CredentialVerifier); null = the rounds' servers do not check them.
  std::shared_ptr<const secagg::IdentityVerifier> identity_verifier;
};

class TaskRounds {
 public:
  // Registers the task in `store`, resumes it (or commits its initial model)
  // and opens the first attempt's selection at `now`.
  static absl::StatusOr<std::unique_ptr<TaskRounds>> Create(
      const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
      ServiceMetrics metrics, std::shared_ptr<spdlog::logger> logger, SteadyClock::time_point now);

  // The open attempt; null when done or when opening one failed (Tick retries).
  RoundAttempt* current() { return current_.get(); }
  // The open or a recently finished attempt with this id; refusal
  // "unknown_round" otherwise.
  absl::StatusOr<RoundAttempt*> Find(uint64_t round_id);

  // Acts on what a call did to the open attempt; true when a long-poll may
  // have something new.
  bool Act(const AttemptEvent& event, SteadyClock::time_point now);
  // Advances the open attempt to `now` (or retries opening one).
  bool Tick(SteadyClock::time_point now);
  // Ends the open selection or phase now.
  bool Expire(SteadyClock::time_point now);

  // Counts and logs a refused message; returns it.
  absl::Status Refused(absl::Status status);
  // Fills the check-in response's assignment for `seat` of the open attempt.
  void Assign(const Seat& seat, const v1::CheckInRequest& request, v1::CheckInResponse* response);

  const TaskConfig& task() const { return task_; }
  bool done() const { return done_; }
  int64_t max_message_bytes() const { return options_.max_message_bytes; }
  const GlobalModel& model() const { return *model_; }
  const ModelPublisher& publisher() const { return *publisher_; }
  ServiceMetrics& metrics() { return metrics_; }
  CoordinatorStatus Status() const;

 private:
  TaskRounds(TaskConfig task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
             ServiceMetrics metrics, std::shared_ptr<spdlog::logger> logger);
  absl::Status Initialize(SteadyClock::time_point now);
  absl::Status OpenRound(SteadyClock::time_point now);
  void CommitAggregated(SteadyClock::time_point now);
  void Abandoned(SteadyClock::time_point now);
  void Finish(SteadyClock::time_point now);
  void LogIfError(const char* event, const absl::Status& status);

  const TaskConfig task_;
  std::unique_ptr<StateStore> store_;
  OrchestratorOptions options_;
  ServiceMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;

  nlohmann::json task_json_;
  int64_t task_id_ = 0;
  std::unique_ptr<GlobalModel> model_;
  std::unique_ptr<ModelPublisher> publisher_;
  std::unique_ptr<RoundCommitter> committer_;
  AttemptRules rules_;
  int64_t next_round_ = 1;
  bool done_ = false;
  std::unique_ptr<RoundAttempt> current_;
  std::map<uint64_t, std::unique_ptr<RoundAttempt>> recent_;
  std::optional<RoundSummary> last_round_;
  std::optional<EvaluationReport> last_evaluation_;
};

}  // namespace tacit::coordinator
