#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/token_stream.h"
#include "models/model_config.h"
#include "models/training.h"

namespace tacit {

// Next-event accuracy (library tacit_models).
struct EvalResult {
  double loss = 0.0;  // mean cross-entropy (nats) over predictions
  double top1 = 0.0;
  double top3 = 0.0;
  int64_t predictions = 0;
};

// Predicts each test token once from the tokens before it; the context may
// reach back into the person's train part. Test positions are scored in blocks
// of max(1, window / 4): a block is scored from one window of `window` tokens
// ending just before its last position, so every prediction sees between
// window - window/4 + 1 and `window` preceding tokens (fewer only at the very
// start of the stream). Thread-safe (see training.h).
absl::StatusOr<EvalResult> Evaluate(const ModelConfig& config, const std::vector<float>& params,
                                    const PersonTokens& person);

struct PopulationEval {
  EvalResult pooled;                   // every prediction of every person counts once
  EvalResult macro;                    // the unweighted mean over persons with test tokens
  std::vector<EvalResult> per_person;  // in the order of the persons given
};

// Evaluate() for each person with the same parameters.
absl::StatusOr<PopulationEval> EvaluatePopulation(const ModelConfig& config,
                                                  const std::vector<float>& params,
                                                  const std::vector<PersonTokens>& persons);

// Personalization: for each person, fine-tunes `global` on the person's own
// train part with `finetune` (typically a few steps: max_steps), then evaluates
// on the person's test part.
absl::StatusOr<PopulationEval> EvaluatePersonalized(const ModelConfig& config,
                                                    const std::vector<float>& global,
                                                    const std::vector<PersonTokens>& persons,
                                                    const TrainOptions& finetune);

// Combines per-person results into pooled and macro figures.
PopulationEval CombineEvaluations(std::vector<EvalResult> per_person);

}  // namespace tacit
