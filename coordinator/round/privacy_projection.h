#pragma once

// What a task's schedule will have spent once all its rounds are committed,
// for `check-config` and `serve` at start: the epsilon the global model will
// report (global_model.h's ProjectedEpsilon, the same composition), with a
// loud warning when it is large. An operator sees the price before the
// first round, not in /metrics after it.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "task/task_config.h"

namespace tacit::coordinator {

// Above this a guarantee says little about one person (issue 19's trial:
// 10.8 after one round, 66 after 16): warned about, never refused.
inline constexpr double kLargeEpsilon = 10;

struct PrivacyProjection {
  int64_t rounds = 0;
  double epsilon = 0;  // 0: no DP noise (no guarantee at all)
  double delta = 0;
  bool noise = false;  // dp.noise_multiplier > 0

  bool Large() const { return !noise || epsilon > kLargeEpsilon; }
  // Lines for an operator: the figure, then a WARNING when Large().
  std::string Describe() const;
};

absl::StatusOr<PrivacyProjection> ProjectPrivacy(const TaskConfig& task);

}  // namespace tacit::coordinator
