#pragma once

// What a selected client computes before secure aggregation: evaluate the
// global model on its held-out tokens (when the task evaluates), train it on
// its own training tokens, clip the update to the task's L2 bound, add its
// share of the distributed DP noise, append the evaluation counts. Only the
// result of this function, masked, ever leaves the device. The fleet client
// daemon and the simulator both call it.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/token_stream.h"
#include "models/model_config.h"
#include "models/training.h"
#include "task/federated_evaluation.h"

namespace tacit {

struct LocalUpdateTask {
  ModelConfig model;
  TrainOptions training;
  double clip_norm = 1.0;     // L2 bound of the update (also bounds every coordinate)
  double noise_stddev = 0.0;  // this client's Gaussian noise share; 0 = no DP noise
  // Weight in the weighted mean: the number of predicted examples, capped at
  // max_weight, or 1 for every client when weight_by_examples is false (needed
  // for a user-level DP guarantee).
  bool weight_by_examples = true;
  double max_weight = 10000;
  // Set when the task evaluates (EvaluationEncodingOf): the update then ends
  // with kEvaluationCoordinates encoded counts, which the L2 clip and the DP
  // noise do not touch.
  std::optional<EvaluationEncoding> evaluation;
};

// Adds N(0, stddev^2) to every value; production passes a CSPRNG-seeded sampler.
using NoiseAdder = std::function<void(absl::Span<float> values, double stddev)>;

struct PreparedUpdate {
  std::vector<float> update;  // clipped, noised local - global [, encoded evaluation counts]
  double weight = 1;
  double norm_before_clip = 0;
  bool clipped = false;
  double train_loss = 0;
  int steps = 0;
  int64_t examples = 0;
  double train_seconds = 0;
  EvaluationCounts evaluation;  // this client's own counts; they leave only masked
};

// Trains on data.train; evaluates on data.test (the newest tokens) before
// training when task.evaluation is set. InvalidArgument for a bad task or too
// little training data (fewer than 2 tokens); FailedPrecondition when noise is
// asked for but no sampler is given.
absl::StatusOr<PreparedUpdate> PrepareLocalUpdate(const LocalUpdateTask& task,
                                                  const std::vector<float>& global,
                                                  const PersonTokens& data,
                                                  const NoiseAdder& add_noise);

// The same with no held-out tokens: an evaluating task gets counts of zero
// clients.
absl::StatusOr<PreparedUpdate> PrepareLocalUpdate(const LocalUpdateTask& task,
                                                  const std::vector<float>& global,
                                                  const std::vector<int32_t>& train_tokens,
                                                  const NoiseAdder& add_noise);

}  // namespace tacit
