#pragma once

// Server optimizers of adaptive federated optimization (Reddi et al., ICLR
// 2021, "Adaptive Federated Optimization", Algorithm 2), on flat float vectors.
// Each round the coordinator hands in the weighted mean of the client updates
// Delta_t = mean_i(x_i - x_t) (the direction the clients moved) and the global
// model x_t; the optimizer moves x_t:
//   FedAvg : x += lr * Delta
//   FedAvgM: m = momentum * m + Delta;           x += lr * m   (Hsu et al. 2019)
//   FedAdam: m = b1 * m + (1 - b1) * Delta
//            v = b2 * v + (1 - b2) * Delta^2;    x += lr * m / (sqrt(v) + tau)
// FedAdam follows the paper exactly: no bias correction, v starts at tau^2.
// With lr_half_life_rounds h > 0, round t (0-based) uses lr * 2^(-t/h); t is
// the step count, which the state keeps, so a restart continues the decay.
// The state (m, v, step count) serializes to bytes for the round checkpoint.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "task/task_config.h"

namespace tacit::coordinator {

class ServerOptimizer {
 public:
  // `dimension` is the model's parameter count.
  static absl::StatusOr<ServerOptimizer> Create(const ServerOptimizerConfig& config,
                                                size_t dimension);

  // Restores a state written by SerializeState; the config must name the same
  // optimizer and the dimension must match, else FailedPrecondition.
  static absl::StatusOr<ServerOptimizer> Restore(const ServerOptimizerConfig& config,
                                                 size_t dimension, const std::string& state);

  // Applies one round. Both spans must have the optimizer's dimension and
  // `mean_update` must be finite (a NaN would poison the model forever).
  absl::Status Apply(absl::Span<const float> mean_update, absl::Span<float> model);

  std::string SerializeState() const;

  int64_t steps() const { return steps_; }
  // The learning rate the next Apply uses.
  double current_lr() const;
  size_t dimension() const { return dimension_; }
  const ServerOptimizerConfig& config() const { return config_; }

 private:
  ServerOptimizer(const ServerOptimizerConfig& config, size_t dimension);

  ServerOptimizerConfig config_;
  size_t dimension_;
  int64_t steps_ = 0;
  std::vector<float> first_moment_;   // FedAvgM momentum buffer or FedAdam m
  std::vector<float> second_moment_;  // FedAdam v
};

}  // namespace tacit::coordinator
