#pragma once

// Federated evaluation inside secure aggregation. Before training, each
// selected client scores the global model it downloaded on its own held-out
// tokens and appends its counts as kEvaluationCoordinates extra coordinates
// after its model delta, so they are masked with it and the coordinator only
// learns the cohort's sums, never one person's accuracy.
//
// The secure sum is weighted: the server gets sum_k w_k * x_k over the
// survivors, each x_k first clipped to [-clip_range, clip_range] and the
// weight capped at max_weight (secure_agg/fixed_point.h). A client therefore
// sends value = (count / unit) * clip_range / w, so that w * value =
// (count / unit) * clip_range whatever its weight, and the server recovers
// count = weighted_sum * unit / clip_range. With count <= unit every value
// lies in [0, clip_range] when w >= 1, so the no-wrap bound the round was
// planned with (CheckNoWrap / LargestSafeScale) holds unchanged. A client
// whose weight is below 1 cannot encode its counts within the range and sends
// zeros (it counts as not evaluated).
//
// Units: clients 1; predictions, top-1 and top-3 hits max_predictions; summed
// loss max_predictions * kMaxMeanLoss nats. The fixed-point quantum of a
// count is unit / (scale * clip_range); stochastic rounding is unbiased, and
// DecodeEvaluation reports the worst-case error of the decoded sums.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"
#include "task/task_config.h"

namespace tacit {

inline constexpr size_t kEvaluationCoordinates = 5;
// A client's summed loss is capped at predictions * kMaxMeanLoss nats (a mean
// loss above it means a probability below e^-32 for the right event).
inline constexpr double kMaxMeanLoss = 32.0;

// One client's held-out counts, or their sums over a cohort.
struct EvaluationCounts {
  int64_t clients = 0;  // clients that evaluated: 0 or 1 for one client
  int64_t predictions = 0;
  int64_t top1_correct = 0;
  int64_t top3_correct = 0;
  double loss_sum = 0;  // nats, summed over the predictions
};

// How the counts are placed in the secure sum; client and coordinator derive
// it from the same task (EvaluationEncodingOf).
struct EvaluationEncoding {
  int64_t max_predictions = 2048;  // a client's predictions are at most this
  double clip_range = 1.0;         // secure_agg.clip_range
  double max_weight = 1.0;         // the round's weight cap
};

// The encoding of a task's rounds, or nullopt when evaluation is off.
std::optional<EvaluationEncoding> EvaluationEncodingOf(const TaskConfig& task, double max_weight);

// Client side: the coordinates to append after the clipped, noised delta.
// InvalidArgument for counts outside their bounds (more than max_predictions
// predictions, more hits than predictions, a negative or non-finite loss).
absl::StatusOr<std::array<float, kEvaluationCoordinates>> EncodeEvaluation(
    const EvaluationEncoding& encoding, const EvaluationCounts& counts, double weight);

// What the coordinator learns: the cohort's sums and the rates they give.
struct FederatedEvaluation {
  EvaluationCounts sums;
  double top1 = 0;  // top1_correct / predictions (0 without predictions)
  double top3 = 0;
  double loss = 0;  // mean loss per prediction, nats
  // Worst-case |decoded - true| of each count sum before rounding to an
  // integer (fixed-point and float rounding of every survivor); below 0.5 the
  // integer sums are exact.
  double count_error_bound = 0;
};

// Coordinator side: `weighted_sums` are the kEvaluationCoordinates weighted
// sums (not divided by the total weight) of a round with fixed-point `scale`
// and `survivors` inputs in the sum.
absl::StatusOr<FederatedEvaluation> DecodeEvaluation(const EvaluationEncoding& encoding,
                                                     absl::Span<const double> weighted_sums,
                                                     double scale, size_t survivors);

// As stored with the model version and shown by status: `model_version` is
// the version the cohort scored (the one it downloaded).
nlohmann::json FederatedEvaluationJson(const FederatedEvaluation& evaluation,
                                       int64_t model_version);

}  // namespace tacit
