#pragma once

// The coordinator's rounds over the network, without the network: check-in
// and selection with over-selection, the secure aggregation phases with their
// deadlines, commit through the StateStore (checkpoint first), abandon and
// retry below threshold, resume after a restart. It drives the same
// PlanRound / SecureRound / GlobalModel as the simulator; the gRPC service
// only translates calls. Every method is thread-safe; nothing blocks on a
// client: long-polls ask Try*() and park when nothing is ready yet, and a
// driver thread calls Tick() to end phases whose deadline passed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/metrics.h"
#include "coordinator/round/global_model.h"
#include "coordinator/round/secure_round.h"
#include "coordinator/state_store.h"
#include "models/model_config.h"
#include "nlohmann/json.hpp"
#include "spdlog/logger.h"
#include "tacit/v1/federation.pb.h"
#include "task/task_config.h"

namespace tacit::coordinator {

using SteadyClock = std::chrono::steady_clock;

struct OrchestratorOptions {
  int64_t population = 0;         // devices the cohort is sampled from (DP sampling rate)
  uint64_t initial_seed = 1;      // seed of the version-0 parameters
  int64_t max_message_bytes = 0;  // 0 = derived from the model size
};

// The encoded global model a client downloads, cached per version.
struct ModelDownload {
  std::shared_ptr<const std::string> bytes;
  std::string sha256_hex;
  int64_t version = 0;
};

class RoundOrchestrator {
 public:
  // Registers the task in `store`, resumes from its last committed round (or
  // commits the initial model) and opens the first round's selection.
  static absl::StatusOr<std::unique_ptr<RoundOrchestrator>> Create(
      const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
      MetricsRegistry* metrics, std::shared_ptr<spdlog::logger> logger);
  ~RoundOrchestrator();

  // `device` is the TLS peer's verified device id.
  v1::CheckInResponse CheckIn(const std::string& device, const v1::CheckInRequest& request,
                              SteadyClock::time_point now);
  absl::StatusOr<ModelDownload> Download(const std::string& device,
                                         const v1::DownloadModelRequest& request);
  absl::Status Submit(const std::string& device, const v1::SubmitRequest& request);
  // nullopt: nothing to say yet (the caller parks and asks again later).
  absl::StatusOr<std::optional<v1::NextMessageResponse>> TryNextMessage(
      const std::string& device, const v1::NextMessageRequest& request);
  absl::StatusOr<std::optional<v1::RoundResultResponse>> TryRoundResult(
      const std::string& device, const v1::RoundResultRequest& request);

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
  nlohmann::json StatusJson() const;             // for /status and `tacit-coordinator status`

  class Impl;

 private:
  explicit RoundOrchestrator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tacit::coordinator
