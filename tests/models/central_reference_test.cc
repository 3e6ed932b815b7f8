// A small real-data check of the whole model path (the full SEA figure, 0.75+
// top-1 for the reference GRU, takes minutes: see docs/model.md).
#include "simulations/central/central_reference.h"

#include <gtest/gtest.h>

#include <map>

#include "client/examples/population.h"
#include "tests/support/shared_data.h"

namespace tacit {
namespace {

// Top-1 of always predicting the most frequent train token, pooled.
double MostFrequentTokenTop1(const std::vector<PersonTokens>& persons) {
  std::map<int32_t, int64_t> counts;
  for (const auto& p : persons) {
    for (int32_t t : p.train) ++counts[t];
  }
  int32_t best = 0;
  for (const auto& [token, n] : counts) {
    if (best == 0 || n > counts[best]) best = token;
  }
  int64_t hits = 0, total = 0;
  for (const auto& p : persons) {
    for (int32_t t : p.test) hits += t == best, ++total;
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

TEST(CentralReferenceTest, SmallGruLearnsSeaCommandsBeyondFrequencyBaseline) {
  TACIT_REQUIRE_SHARED_DATA(sea, "sea-commands");
  PopulationSpec spec;
  spec.source = "sea-commands";
  spec.path = sea;
  spec.people = 5;
  spec.max_events_per_person = 2000;
  auto persons = LoadPopulation(spec);
  ASSERT_TRUE(persons.ok()) << persons.status();
  ASSERT_EQ(persons->size(), 5u);

  CentralOptions options;
  options.model.embedding_dim = 32;
  options.model.hidden_dim = 64;
  options.model.window = 32;
  options.train.epochs = 4;
  options.train.lr = 0.005;
  options.personalize_steps = 5;
  auto result = TrainCentrally(*persons, options);
  ASSERT_TRUE(result.ok()) << result.status();
  const double baseline = MostFrequentTokenTop1(*persons);
  const EvalResult& pooled = result->evaluation.pooled;
  std::printf("pooled top-1 %.3f top-3 %.3f (most-frequent baseline %.3f), personalized %.3f\n",
              pooled.top1, pooled.top3, baseline, result->personalized.pooled.top1);
  EXPECT_EQ(pooled.predictions, 5 * 400);
  EXPECT_GT(pooled.top1, baseline + 0.1);
  EXPECT_GT(pooled.top3, pooled.top1);
  EXPECT_EQ(result->personalized.pooled.predictions, pooled.predictions);
  EXPECT_LT(result->training.train_loss, 4.0);
}

}  // namespace
}  // namespace tacit
