#pragma once

// The coordinator's global model between rounds: parameters, model version,
// server optimizer state and the privacy spent so far. A committed round's
// mean update goes through the server optimizer here; an abandoned round never
// touches it. The gRPC service checkpoints it through StateStore; the simulator
// keeps it in memory.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/server_optimizer.h"
#include "privacy/rdp_accountant.h"
#include "task/task_config.h"

namespace tacit::coordinator {

class GlobalModel {
 public:
  // Version 0 holds `initial` parameters. `population` is the number of
  // enrolled clients; it is checked and kept for the operator but is not a
  // sampling rate: rounds are accounted with the task's
  // dp.AccountedSamplingRate() (q = 1 unless laptops check in at random).
  static absl::StatusOr<GlobalModel> Create(const TaskConfig& task, std::vector<float> initial,
                                            int64_t population);

  // Continues a task after a coordinator restart: `parameters` and
  // `optimizer_state` from the checkpoint of `version`, and the cohort size of
  // every committed round so far (re-composed into the privacy accountant).
  static absl::StatusOr<GlobalModel> Restore(const TaskConfig& task, std::vector<float> parameters,
                                             int64_t version, const std::string& optimizer_state,
                                             int64_t population,
                                             const std::vector<int>& committed_cohort_sizes);

  // Applies one committed round: the server optimizer moves the parameters
  // along `mean_update`, the version advances and, when DP noise is on, the
  // round is composed into the privacy accountant with sampling rate
  // the task's dp.AccountedSamplingRate(). Refuses a wrong size or a non-finite update
  // (nothing changes then).
  absl::Status ApplyRound(const std::vector<float>& mean_update, int cohort_size);

  const std::vector<float>& parameters() const { return parameters_; }
  int64_t version() const { return version_; }
  // Epsilon at the task's delta; 0 when no DP noise is added (no guarantee).
  double epsilon() const { return epsilon_; }
  const ServerOptimizer& optimizer() const { return optimizer_; }

 private:
  GlobalModel(const TaskConfig& task, std::vector<float> parameters, ServerOptimizer optimizer,
              int64_t population)
      : task_(task),
        parameters_(std::move(parameters)),
        optimizer_(std::move(optimizer)),
        population_(population) {}

  TaskConfig task_;
  std::vector<float> parameters_;
  ServerOptimizer optimizer_;
  int64_t population_;
  int64_t version_ = 0;
  absl::Status ComposePrivacy(int cohort_size);

  privacy::RdpAccountant accountant_;
  double epsilon_ = 0;
};

// The epsilon (at the task's delta) a GlobalModel reports once `rounds`
// rounds are committed, composed exactly as ApplyRound composes them: what
// `check-config` and `serve` project for the task's schedule. 0 without DP
// noise (no guarantee).
absl::StatusOr<double> ProjectedEpsilon(const TaskConfig& task, int64_t rounds);

}  // namespace tacit::coordinator
