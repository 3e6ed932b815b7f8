#include "simulations/federation/weighting.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"

namespace tacit::sim {

double ExamplesOf(const PersonTokens& person) {
  return person.train.size() < 2 ? 0.0 : static_cast<double>(person.train.size() - 1);
}

WeightingReport ResolveWeighting(ExperimentConfig& config,
                                 const std::vector<PersonTokens>& people) {
  // A view of loaded tokens materialises without failing.
  return *ResolveWeighting(config, *LoadedPopulation::View(people));
}

absl::StatusOr<WeightingReport> ResolveWeighting(ExperimentConfig& config,
                                                 const Population& people) {
  WeightingReport report;
  AggregationConfig& aggregation = config.task.aggregation;
  config.weighting_resolved = true;
  if (aggregation.weighting == Weighting::kUniform) {
    report.description = "uniform (every client weighs 1)";
    return report;
  }
  std::vector<double> examples(people.size());
  std::vector<absl::Status> errors(people.size());
  ParallelFor(people.size(), people.generated() ? config.workers : 1, [&](size_t i) {
    absl::StatusOr<std::shared_ptr<const PersonTokens>> person = people.Materialize(i);
    if (person.ok()) {
      examples[i] = ExamplesOf(**person);
    } else {
      errors[i] = person.status();
    }
  });
  for (const absl::Status& error : errors) TACIT_RETURN_IF_ERROR(error);
  if (!config.max_weight_given) {
    double largest = 1;
    for (double e : examples) largest = std::max(largest, e);
    aggregation.max_weight = largest;
  }
  for (double e : examples) report.capped += e > aggregation.max_weight;
  report.description = absl::StrCat(
      "by training examples, ",
      config.max_weight_given
          ? absl::StrCat("capped at max_weight ", aggregation.max_weight, " (the config's): ")
          : absl::StrCat("uncapped (no max_weight in the config; set to the largest person's ",
                         aggregation.max_weight, " examples): "),
      report.capped, " of ", people.size(), " people capped");
  return report;
}

}  // namespace tacit::sim
