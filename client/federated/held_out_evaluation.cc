#include "client/federated/held_out_evaluation.h"

#include <algorithm>
#include <cmath>

#include "common/status_macros.h"
#include "models/evaluation.h"

namespace tacit {

absl::StatusOr<EvaluationCounts> EvaluateHeldOut(const ModelConfig& model,
                                                 const std::vector<float>& global,
                                                 const PersonTokens& data,
                                                 int64_t max_predictions) {
  EvaluationCounts counts;
  if (data.test.empty() || max_predictions < 1) return counts;
  // Only the newest max_predictions tokens are scored (bounded work on the
  // laptop and a bounded count in the sum); older held-out tokens still serve
  // as context.
  const size_t scored = std::min(data.test.size(), static_cast<size_t>(max_predictions));
  const auto split = data.test.end() - static_cast<std::ptrdiff_t>(scored);
  PersonTokens window;
  window.person_id = data.person_id;
  window.train = data.train;
  window.train.insert(window.train.end(), data.test.begin(), split);
  window.test.assign(split, data.test.end());
  TACIT_ASSIGN_OR_RETURN(EvalResult result, Evaluate(model, global, window));
  if (result.predictions == 0) return counts;
  const double n = static_cast<double>(result.predictions);
  counts.clients = 1;
  counts.predictions = result.predictions;
  // Evaluate reports rates of integer counts: recover the integers.
  counts.top1_correct = static_cast<int64_t>(std::llround(result.top1 * n));
  counts.top3_correct = std::max<int64_t>(counts.top1_correct, std::llround(result.top3 * n));
  counts.loss_sum = std::max(0.0, result.loss * n);
  return counts;
}

}  // namespace tacit
