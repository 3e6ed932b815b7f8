#include "simulations/federation/weighting.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tacit::sim {

double ExamplesOf(const PersonTokens& person) {
  return person.train.size() < 2 ? 0.0 : static_cast<double>(person.train.size() - 1);
}

WeightingReport ResolveWeighting(ExperimentConfig& config,
                                 const std::vector<PersonTokens>& people) {
  WeightingReport report;
  AggregationConfig& aggregation = config.task.aggregation;
  if (aggregation.weighting == Weighting::kUniform) {
    report.description = "uniform (every client weighs 1)";
    return report;
  }
  if (!config.max_weight_given) {
    double largest = 1;
    for (const PersonTokens& p : people) largest = std::max(largest, ExamplesOf(p));
    aggregation.max_weight = largest;
  }
  for (const PersonTokens& p : people) report.capped += ExamplesOf(p) > aggregation.max_weight;
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
