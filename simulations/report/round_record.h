#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"
#include "secure_agg/phase.h"

namespace tacit::sim {

// The global model evaluated on every person's test part.
struct ModelEvaluation {
  double top1_pooled = 0, top3_pooled = 0, top1_macro = 0, top3_macro = 0, test_loss = 0;
};

// What one simulated round did and measured. One line of rounds.jsonl and one
// row of rounds.csv; the field order here is the CSV column order. What was not
// measured in a round is absent: null in JSON, an empty CSV field.
struct RoundRecord {
  int round = 0;
  std::string outcome;  // "committed" or "abandoned: <why>"
  int model_version = 0;
  int eligible = 0;      // people available this round (with random check-ins: whose coin came up)
  int selected = 0;      // cohort including over-selection
  int stragglers = 0;    // missed the training deadline
  int participants = 0;  // whose updates are in the sum
  std::array<int, secagg::kPhaseCount> dropouts_per_phase{};  // secure_agg/phase.h order
  std::optional<ModelEvaluation> evaluation;                  // absent in rounds not evaluated
  std::optional<double> train_loss;  // mean over clients that trained; absent if none
  int64_t bytes_up = 0;              // all clients -> coordinator
  int64_t bytes_down = 0;            // coordinator -> all clients (model + protocol)
  double train_seconds = 0;          // summed over clients (CPU work, not wall)
  double train_wall_seconds = 0;     // wall time of the parallel training step
  double secagg_seconds = 0;         // client + server protocol math
  double wall_seconds = 0;           // the whole round, wall clock (evaluation excluded)
  double eval_seconds = 0;           // evaluating the new global model on every person
  double epsilon = 0;                // privacy spent so far (0 when DP is off)
  // Measured by the in-process transport only: the gRPC transport's clients
  // are fleet clients whose updates the simulator never sees, so there these
  // stay absent (null), never a 0 that reads as measured.
  // The trained updates' mean L2 norm before clipping (dp.clip_norm); absent
  // when nobody trained.
  std::optional<double> update_norm;
  // Rotated quantization (task/rotated_quantization.h): rotated coordinates
  // the clients quantized, and how many of them were beyond the range and
  // clipped (0 without compression); absent when nothing was aggregated.
  std::optional<int64_t> rotated_coordinates;
  std::optional<int64_t> clipped_after_rotation;
  // The cohort's held-out sums as the coordinator decodes them from the
  // secure sum (FederatedEvaluationJson); null when the task does not evaluate.
  nlohmann::json federated_evaluation;

  // One evaluation figure, absent when the round was not evaluated.
  std::optional<double> Get(double ModelEvaluation::*field) const;

  nlohmann::json ToJson() const;
  static std::string CsvHeader();
  std::string ToCsvRow() const;
};

}  // namespace tacit::sim
