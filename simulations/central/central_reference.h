#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/token_stream.h"
#include "models/evaluation.h"
#include "models/model_config.h"
#include "models/training.h"

namespace tacit {

// The central reference: what the model reaches when one party may see
// everyone's data. Federated runs are compared against it.
// One epoch of central training, evaluated on every person's test part.
struct CentralEpoch {
  int epoch = 0;  // 1-based
  double train_loss = 0.0;
  int steps = 0;
  PopulationEval evaluation;
};

struct CentralOptions {
  ModelConfig model;
  TrainOptions train;  // epochs, batch, optimizer, threads ... over the pooled windows
  uint64_t init_seed = 1;
  // Also fine-tune the central model per person and evaluate (0 = skip).
  int personalize_steps = 0;
  // Called after every epoch with the model evaluated (the last epoch's
  // evaluation is the result's); a non-OK status stops training. Unset: the
  // model is evaluated once, after the last epoch.
  std::function<absl::Status(const CentralEpoch&)> on_epoch;
};

struct CentralResult {
  std::vector<float> parameters;  // the trained model, flat layout
  LocalUpdate training;           // steps, loss, seconds of the pooled training
  PopulationEval evaluation;      // on every person's test part
  PopulationEval personalized;    // when personalize_steps > 0
  double eval_seconds = 0.0;
};

// Trains from InitialParameters(model, init_seed) on every person's train part
// (windows never cross persons), then evaluates on every test part.
absl::StatusOr<CentralResult> TrainCentrally(const std::vector<PersonTokens>& persons,
                                             const CentralOptions& options);

}  // namespace tacit
