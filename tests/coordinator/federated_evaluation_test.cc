// Federated evaluation inside secure aggregation: random cohorts, weights,
// field sizes and dropouts in every phase; the evaluation sums the coordinator
// decodes must equal the plain sums of the survivors' counts, and the model
// coordinates must still average to the survivors' weighted mean.

#include "task/federated_evaluation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "coordinator/round/round_plan.h"
#include "coordinator/round/secure_round.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/in_process_delivery.h"

namespace tacit::coordinator {
namespace {

TaskConfig EvaluatingTask(int cohort, int min_survivors, int bits, double clip_range,
                          int max_predictions, bool enabled = true) {
  nlohmann::json json = {
      {"name", "federated-evaluation-test"},
      {"model", {{"name", "gru"}}},
      {"vocab", {{"size", 16}, {"salt", "s"}}},
      {"cohort", {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", min_survivors}}},
      {"secure_agg", {{"bits", bits}, {"clip_range", clip_range}}},
      {"evaluation", {{"enabled", enabled}, {"max_predictions", max_predictions}}}};
  auto task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

EvaluationCounts RandomCounts(std::mt19937_64& rng, int64_t max_predictions) {
  EvaluationCounts c;
  // Some clients have no held-out tokens and count as not evaluated.
  if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.15) return c;
  c.clients = 1;
  c.predictions = std::uniform_int_distribution<int64_t>(1, max_predictions)(rng);
  c.top3_correct = std::uniform_int_distribution<int64_t>(0, c.predictions)(rng);
  c.top1_correct = std::uniform_int_distribution<int64_t>(0, c.top3_correct)(rng);
  c.loss_sum = std::uniform_real_distribution<double>(0, 12)(rng) * c.predictions;
  return c;
}

struct Client {
  EvaluationCounts counts;
  double weight = 1;
  std::vector<float> delta;
  std::unique_ptr<secagg::SecAggClient> secagg;
  int drop_phase = -1;  // stops answering in this phase; -1 = never
};

TEST(FederatedEvaluation, DecodedSumsEqualPlainSumsAcrossCohortsWeightsAndDropouts) {
  std::mt19937_64 rng(0xe7a1);
  int committed = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const int n = std::uniform_int_distribution<int>(3, 10)(rng);
    const int min_survivors = std::max(2, n - std::uniform_int_distribution<int>(0, 3)(rng));
    const int bits = std::uniform_int_distribution<int>(0, 1)(rng) ? 32 : 48;
    const double clip_range = std::uniform_real_distribution<double>(0.02, 2.0)(rng);
    const int max_predictions = std::uniform_int_distribution<int>(1, 4096)(rng);
    const double max_weight = std::vector<double>{1, 4, 100}[trial % 3];
    const uint64_t model_length = std::uniform_int_distribution<uint64_t>(1, 40)(rng);
    TaskConfig task = EvaluatingTask(n, min_survivors, bits, clip_range, max_predictions);
    task.aggregation.weighting = max_weight > 1 ? Weighting::kExamples : Weighting::kUniform;
    task.aggregation.max_weight = max_weight;
    std::vector<uint32_t> ids(n);
    for (int i = 0; i < n; ++i) ids[i] = static_cast<uint32_t>(i + 1);
    auto plan = PlanRound(task, 100 + trial, ids, model_length);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_TRUE(plan->evaluation.has_value());
    ASSERT_EQ(plan->vector_length, model_length + kEvaluationCoordinates);
    // The planned range still cannot wrap with the evaluation coordinates in.
    secagg::FixedPointParams fixed{plan->bits, plan->clip_range, plan->scale, plan->max_weight};
    ASSERT_TRUE(secagg::CheckNoWrap(fixed, n).ok());

    // Enough survive for the round to commit: drop at most n - max(t, min).
    const int may_drop = n - std::max<int>(plan->threshold, plan->min_survivors);
    std::map<uint32_t, Client> clients;
    int dropping = 0;
    for (uint32_t id : ids) {
      Client& c = clients[id];
      c.counts = RandomCounts(rng, max_predictions);
      // What the fleet client sends: exactly 1 when uniform; by examples an
      // integer from 1 (a client that trained saw at least one example) to
      // above the cap (the quantizer caps it). The server refuses a total
      // weight below one per survivor (a crafted sum).
      c.weight = max_weight > 1
                     ? std::floor(std::uniform_real_distribution<double>(1, 1.5 * max_weight)(rng))
                     : 1.0;
      if (dropping < may_drop && std::uniform_real_distribution<double>(0, 1)(rng) < 0.3) {
        c.drop_phase = std::uniform_int_distribution<int>(0, 3)(rng);
        ++dropping;
      }
      c.delta.resize(model_length);
      for (float& x : c.delta) {
        x = std::uniform_real_distribution<float>(-1.5f * clip_range, 1.5f * clip_range)(rng);
      }
      auto encoded = EncodeEvaluation(*plan->evaluation, c.counts, c.weight);
      ASSERT_TRUE(encoded.ok()) << encoded.status();
      for (float v : *encoded) {
        ASSERT_GE(v, 0.0f);
        ASSERT_LE(v, plan->clip_range);  // inside the planned per-coordinate range
      }
      std::vector<float> input = c.delta;
      input.insert(input.end(), encoded->begin(), encoded->end());
      secagg::ClientConfig config;
      config.client_id = id;
      auto client = secagg::SecAggClient::Create(config, std::move(input), c.weight);
      ASSERT_TRUE(client.ok()) << client.status();
      c.secagg = *std::move(client);
    }

    auto round = SecureRound::Create(*plan);
    ASSERT_TRUE(round.ok()) << round.status();
    // The in-memory transport through the one round driver; clients vanish
    // in the phase the trial drew for them.
    std::map<uint32_t, std::unique_ptr<secagg::SecAggClient>> secagg_clients;
    secagg::InProcessDelivery::Options options;
    for (auto& [id, c] : clients) {
      secagg_clients[id] = std::move(c.secagg);
      if (c.drop_phase >= 0) options.dropouts.dropped_before[c.drop_phase].insert(id);
    }
    secagg::InProcessDelivery delivery(std::move(secagg_clients), options);
    absl::StatusOr<RoundAggregate> ran = (*round)->Run(delivery);
    ASSERT_TRUE(ran.ok()) << "trial " << trial << ": " << ran.status();
    EXPECT_EQ(delivery.client_stats()[0].refused, 0u);
    std::optional<RoundAggregate> aggregate = *std::move(ran);
    ASSERT_TRUE(aggregate.has_value());
    ASSERT_TRUE(aggregate->evaluation.has_value());
    ++committed;

    // Plain sums over the clients whose masked input reached the sum.
    EvaluationCounts expected;
    std::vector<double> weighted(model_length, 0.0);
    double total_weight = 0;
    std::vector<uint32_t> in_sum;
    for (const auto& [id, c] : clients) {
      if (c.drop_phase >= 0 && c.drop_phase <= 2) continue;
      in_sum.push_back(id);
      const double w = std::min(c.weight, max_weight);
      total_weight += w;
      for (uint64_t k = 0; k < model_length; ++k) {
        weighted[k] += w * std::clamp<double>(c.delta[k], -clip_range, clip_range);
      }
      if (w < 1) continue;  // could not encode: not evaluated
      expected.clients += c.counts.clients;
      expected.predictions += c.counts.predictions;
      expected.top1_correct += c.counts.top1_correct;
      expected.top3_correct += c.counts.top3_correct;
      expected.loss_sum += c.counts.loss_sum;
    }
    std::vector<uint32_t> survivors = aggregate->survivors;
    std::sort(survivors.begin(), survivors.end());
    ASSERT_EQ(survivors, in_sum);

    const FederatedEvaluation& got = *aggregate->evaluation;
    SCOPED_TRACE(testing::Message()
                 << "trial " << trial << ": n=" << n << " bits=" << bits << " clip=" << clip_range
                 << " M=" << max_predictions << " max_weight=" << max_weight
                 << " error bound=" << got.count_error_bound);
    if (got.count_error_bound < 0.5) {
      EXPECT_EQ(got.sums.clients, expected.clients);
      EXPECT_EQ(got.sums.predictions, expected.predictions);
      EXPECT_EQ(got.sums.top1_correct, expected.top1_correct);
      EXPECT_EQ(got.sums.top3_correct, expected.top3_correct);
    } else {
      const double bound = got.count_error_bound + 0.5;
      EXPECT_NEAR(got.sums.predictions, expected.predictions, bound);
      EXPECT_NEAR(got.sums.top1_correct, expected.top1_correct, bound);
      EXPECT_NEAR(got.sums.top3_correct, expected.top3_correct, bound);
    }
    EXPECT_NEAR(got.sums.loss_sum, expected.loss_sum, got.count_error_bound * kMaxMeanLoss + 1e-6);
    if (expected.predictions > 0 && got.count_error_bound < 0.5) {
      EXPECT_DOUBLE_EQ(got.top1, static_cast<double>(expected.top1_correct) /
                                     static_cast<double>(expected.predictions));
    }

    // The model part: the weighted mean, untouched by the appended counts.
    ASSERT_EQ(aggregate->mean_update.size(), model_length);
    const double mean_tolerance =
        static_cast<double>(in_sum.size()) / (plan->scale * total_weight) + 1e-5 * clip_range;
    for (uint64_t k = 0; k < model_length; ++k) {
      ASSERT_NEAR(aggregate->mean_update[k], weighted[k] / total_weight, mean_tolerance)
          << "coordinate " << k;
    }
  }
  EXPECT_EQ(committed, 24);
}

TEST(FederatedEvaluation, PlanLeavesTheVectorAloneWhenEvaluationIsOff) {
  TaskConfig task = EvaluatingTask(4, 3, 32, 0.5, 100, /*enabled=*/false);
  auto plan = PlanRound(task, 1, {1, 2, 3, 4}, 17);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->evaluation.has_value());
  EXPECT_EQ(plan->vector_length, 17u);
  EXPECT_EQ(plan->model_length, 17u);
  // And a sum with no evaluation coordinates decodes to no evaluation.
  auto aggregate = MakeRoundAggregate(*plan, std::vector<double>(17, 2.0), 4.0, {1, 2, 3});
  ASSERT_TRUE(aggregate.ok()) << aggregate.status();
  EXPECT_FALSE(aggregate->evaluation.has_value());
  EXPECT_FLOAT_EQ(aggregate->mean_update[0], 0.5f);
}
}  // namespace
}  // namespace tacit::coordinator
