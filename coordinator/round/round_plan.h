#pragma once

// The secure aggregation parameters of one round, resolved from the task config
// and the cohort actually selected. The gRPC service and the simulator both plan
// rounds here, so a task behaves the same in both.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "privacy/ddg_planner.h"
#include "secure_agg/parameters.h"
#include "task/federated_evaluation.h"
#include "task/rotated_quantization.h"
#include "task/task_config.h"

namespace tacit::coordinator {

struct RoundPlan {
  uint64_t round_id = 0;
  std::vector<uint32_t> cohort;  // client ids of this round, distinct
  uint32_t threshold = 0;        // Shamir threshold t
  uint32_t neighbors = 0;        // SecAgg+ degree k; 0 = complete graph
  uint32_t bits = 32;         // the ring: the task's secure_agg.bits, or planned (task/ring_bits.h)
  double clip_range = 1.0;    // per coordinate, before quantizing
  double scale = 1;           // fixed-point scale (largest that cannot wrap)
  double max_weight = 1;      // a client's weight is capped here
  uint64_t model_length = 0;  // coordinates of the model delta
  // Coordinates the model delta takes in the summed vector: model_length, or
  // with the discrete Gaussian its rotated, padded dimension.
  uint64_t encoded_model_length = 0;
  uint64_t vector_length = 0;  // the summed vector: encoded model delta, then evaluation counts
  // Set when the task evaluates: kEvaluationCoordinates follow the delta.
  std::optional<EvaluationEncoding> evaluation;
  int min_survivors = 2;     // fewer updates in the sum: the round is abandoned
  double headroom_bits = 0;  // spare bits above the worst-case sum
  double noise_stddev = 0;   // each client's continuous Gaussian share (0 = none)
  // Set when the task uses the distributed discrete Gaussian (task/ddg_task.h):
  // the model delta is encoded and decoded with it, rotated with
  // DdgRotationSeed(round_id).
  std::optional<privacy::DdgPlan> ddg;
  // Set when the task compresses (task/rotated_quantization.h): the model
  // delta is rotated and quantized with it, rotated with
  // DdgRotationSeed(round_id), and decoded after the sum.
  std::optional<RotatedQuantizationPlan> compression;

  std::string Describe() const;  // one line for logs and summaries
};

// Threshold and degree: the task's values when set, else ChooseParameters
// (secure_agg/parameters.h) for the selected cohort, the expected dropout
// implied by cohort.min_survivors and a 10% corruption bound. The threshold is
// raised to min_survivors when that is smaller than the cohort needs for privacy.
// FailedPrecondition when the cohort is smaller than min_survivors (the round
// could never commit) or the sum could wrap. `model_length` is the model's
// parameter count; the summed vector adds the evaluation coordinates when the
// task's evaluation is on. Each client's weight is capped at the task's
// aggregation.max_weight (1 with uniform weighting).
// What PlanRound asks secure_agg/parameters.h for a cohort of `n`: the
// dropout implied by cohort.min_survivors, a 10% corruption bound and the
// default targets (privacy 2^-40, correctness 2^-20).
secagg::ParameterRequest PlanningRequest(const TaskConfig& task, uint32_t n);

absl::StatusOr<RoundPlan> PlanRound(const TaskConfig& task, uint64_t round_id,
                                    std::vector<uint32_t> cohort, uint64_t model_length);

}  // namespace tacit::coordinator
