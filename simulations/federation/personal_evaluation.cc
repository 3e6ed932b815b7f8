#include "simulations/federation/personal_evaluation.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "client/federated/personal_model.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "models/evaluation.h"
#include "simulations/federation/derived_seeds.h"

namespace tacit::sim {

double BigramTop1(const PersonTokens& person) {
  if (person.test.empty()) return 0;
  std::map<int32_t, std::map<int32_t, int64_t>> next;
  for (size_t i = 1; i < person.train.size(); ++i) ++next[person.train[i - 1]][person.train[i]];
  int64_t hits = 0;
  int32_t previous = person.train.empty() ? -1 : person.train.back();
  for (int32_t actual : person.test) {
    int32_t guess = -1;
    int64_t best = 0;
    auto seen = next.find(previous);
    if (seen != next.end()) {
      for (const auto& [token, count] : seen->second) {
        if (count > best) best = count, guess = token;
      }
    }
    hits += guess == actual;
    previous = actual;
  }
  return static_cast<double>(hits) / static_cast<double>(person.test.size());
}

absl::StatusOr<std::vector<PersonalRow>> EvaluatePersonalModels(
    const ExperimentConfig& config, const std::vector<float>& global,
    const std::vector<EvalResult>& global_evaluation, const std::vector<PersonTokens>& people) {
  if (global_evaluation.size() != people.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("personal models need the global model's evaluation of every person: got ",
                     global_evaluation.size(), " results for ", people.size(),
                     " people (evaluate the final round, as RunSimulation does)"));
  }
  std::vector<PersonalRow> rows(people.size());
  std::vector<absl::Status> errors(people.size());
  const PersonalizationOptions personal{config.personalization.steps, config.personalization.lr};
  ParallelFor(people.size(), config.workers, [&](size_t i) {
    const PersonTokens& person = people[i];
    PersonalRow& row = rows[i];
    row.person = person.person_id;
    row.bigram_top1 = BigramTop1(person);
    auto scored = [&]() -> absl::Status {
      const EvalResult& global_eval = global_evaluation[i];
      row.predictions = global_eval.predictions;
      row.global_top1 = global_eval.top1;
      row.personal_top1 = global_eval.top1;  // nothing to fine-tune on: the global model
      if (person.train.size() < 2) return absl::OkStatus();
      TrainOptions training = config.training;
      training.seed = DeriveSeed(config.seed, 0, i, kPersonalizationSalt);
      TACIT_ASSIGN_OR_RETURN(
          std::vector<float> mine,
          FineTunePersonalModel(config.model, global, person.train, training, personal));
      TACIT_ASSIGN_OR_RETURN(EvalResult personal_eval, Evaluate(config.model, mine, person));
      row.personal_top1 = personal_eval.top1;
      return absl::OkStatus();
    }();
    errors[i] = scored;
  });
  for (const absl::Status& error : errors) TACIT_RETURN_IF_ERROR(error);
  return rows;
}

}  // namespace tacit::sim
