#include "simulations/central/central_reference.h"

#include <chrono>
#include <optional>

#include "common/status_macros.h"
#include "models/parameter_layout.h"

namespace tacit {

absl::StatusOr<CentralResult> TrainCentrally(const std::vector<PersonTokens>& persons,
                                             const CentralOptions& options) {
  if (persons.empty()) return absl::InvalidArgumentError("central training needs persons");
  CentralResult result;
  TACIT_ASSIGN_OR_RETURN(result.parameters, InitialParameters(options.model, options.init_seed));
  std::vector<std::vector<int32_t>> streams;
  streams.reserve(persons.size());
  for (const PersonTokens& p : persons) streams.push_back(p.train);
  TrainOptions train = options.train;
  std::optional<PopulationEval> last_epoch;  // the final model's evaluation, when per epoch
  double epoch_eval_seconds = 0;
  if (options.on_epoch) {
    train.on_epoch_end = [&](const EpochEnd& end) -> absl::Status {
      const auto eval_start = std::chrono::steady_clock::now();
      TACIT_ASSIGN_OR_RETURN(PopulationEval eval,
                             EvaluatePopulation(options.model, end.parameters, persons));
      epoch_eval_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
      last_epoch = eval;
      return options.on_epoch({end.epoch, end.train_loss, end.steps, std::move(eval)});
    };
  }
  TACIT_ASSIGN_OR_RETURN(result.training,
                         TrainOnStreams(options.model, result.parameters, streams, train));
  // The trainer's clock ran through the per-epoch evaluations: count them as
  // evaluation, not training.
  result.training.seconds -= epoch_eval_seconds;
  for (size_t i = 0; i < result.parameters.size(); ++i) {
    result.parameters[i] += result.training.delta[i];
  }
  const auto start = std::chrono::steady_clock::now();
  if (last_epoch) {
    // The trainer calls on_epoch_end after the last (possibly cut short) epoch
    // too: those are the final parameters, already evaluated.
    result.evaluation = *std::move(last_epoch);
  } else {
    TACIT_ASSIGN_OR_RETURN(result.evaluation,
                           EvaluatePopulation(options.model, result.parameters, persons));
  }
  if (options.personalize_steps > 0) {
    TrainOptions finetune = options.train;
    finetune.max_steps = options.personalize_steps;
    finetune.wall_clock_budget_s = 0.0;
    TACIT_ASSIGN_OR_RETURN(
        result.personalized,
        EvaluatePersonalized(options.model, result.parameters, persons, finetune));
  }
  result.eval_seconds =
      epoch_eval_seconds +
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tacit
