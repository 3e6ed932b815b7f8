#pragma once

// The coordinator's rounds over the network, without the network: the facade
// the gRPC service (federation_service.h) calls. It holds the lock, routes
// each call to its attempt and tells long-polls when something changed. The
// pieces, each in its own file with its own tests:
//   task_rounds.h      one task's rounds: resume, open attempts, act on what
//                       an attempt reports (commit, abandon, metrics, logs)
//   round_attempt.h     one attempt's state machine (selection, the four
//                       secure aggregation phases, deadlines); no clock, no I/O
//   seat_registry.h     seats, sessions and the session check
//   model_publisher.h   the encoded model clients download, and its hash
//   round_committer.h   commit (server optimizer, state store) and abandon
//   task_resume.h       resume after a restart, re-composing epsilon from the
//                       state store's typed columns
//   service_metrics.h   the Prometheus metrics, set from typed results
//   status_view.h       the typed status and its /status JSON
// Every method is thread-safe and takes the time as a value; nothing blocks
// on a client: long-polls ask Try*() and park when nothing is ready yet, and
// a driver thread calls Tick() to end phases whose deadline passed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/metrics.h"
#include "coordinator/service/model_publisher.h"
#include "coordinator/service/round_attempt.h"
#include "coordinator/service/seat_registry.h"
#include "coordinator/service/status_view.h"
#include "coordinator/service/task_rounds.h"
#include "coordinator/state_store.h"
#include "nlohmann/json.hpp"
#include "spdlog/logger.h"
#include "tacit/v1/federation.pb.h"
#include "task/task_config.h"

namespace tacit::coordinator {

class RoundOrchestrator {
 public:
  // Registers the task in `store`, resumes from its last committed round (or
  // commits the initial model) and opens the first round's selection at `now`.
  static absl::StatusOr<std::unique_ptr<RoundOrchestrator>> Create(
      const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
      MetricsRegistry* metrics, std::shared_ptr<spdlog::logger> logger,
      SteadyClock::time_point now);
  ~RoundOrchestrator();

  // `device` is the TLS peer's verified device id.
  v1::CheckInResponse CheckIn(const std::string& device, const v1::CheckInRequest& request,
                              SteadyClock::time_point now);
  absl::StatusOr<ModelDownload> Download(const std::string& device,
                                         const v1::DownloadModelRequest& request);
  absl::Status Submit(const std::string& device, const v1::SubmitRequest& request,
                      SteadyClock::time_point now);
  // nullopt: nothing to say yet (the caller parks and asks again later).
  // These never change the round, so a long-poll may retry them anywhere.
  absl::StatusOr<std::optional<v1::NextMessageResponse>> TryNextMessage(
      const std::string& device, const v1::NextMessageRequest& request,
      SteadyClock::time_point now);
  absl::StatusOr<std::optional<v1::RoundResultResponse>> TryRoundResult(
      const std::string& device, const v1::RoundResultRequest& request,
      SteadyClock::time_point now);

  // Ends phases that are complete or past their deadline, closes selection.
  void Tick(SteadyClock::time_point now);

  // Ends the open selection or phase now, as if its deadline had passed:
  // clients that have not answered are dropped. For tacit-sim's gRPC
  // transport, whose clock skips the idle wait for clients it knows vanished.
  void ExpireDeadline(SteadyClock::time_point now);

  // Called (outside the lock) after anything a long-poll may wait for changed.
  void SetOnChange(std::function<void()> on_change);

  bool done() const;
  int64_t model_version() const;
  std::vector<float> global_parameters() const;  // a copy of the current global model
  CoordinatorStatus Status() const;
  nlohmann::json StatusJson() const;  // StatusJson(Status()): /status, `tacit-coordinator status`

  class Impl;

 private:
  explicit RoundOrchestrator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tacit::coordinator
