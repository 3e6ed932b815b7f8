// Rotated quantization end to end in one process: the laptop's encoding
// (client/federated/compressed_input.h), the modular sum secure aggregation
// computes, and the coordinator's decoding (coordinator/round/secure_round.h
// DecodeSum), on the plan PlanRound makes; and a federation with it.

#include <cmath>
#include <random>
#include <vector>

#include "client/federated/compressed_input.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/round/secure_round.h"
#include "gtest/gtest.h"
#include "secure_agg/fixed_point.h"
#include "task/ddg_task.h"
#include "task/federated_evaluation.h"
#include "tests/simulations/small_experiment.h"

namespace tacit::sim {
namespace {

TaskConfig CompressedTask(int cohort, int k) {
  nlohmann::json json = SmallExperiment(cohort, cohort, 1, 1)["task"];
  json["cohort"] = {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", cohort}};
  json["secure_agg"] = {
      {"compression",
       {{"type", "rotated_quantization"}, {"bits_per_coordinate", k}, {"range_sigmas", 6.0}}}};
  json["dp"] = {{"clip_norm", 0.5}};
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

// Random cohorts, lengths (not powers of two) and k: the coordinator's
// decoded mean is the clients' mean within the stochastic-rounding bound
// E ||error||^2 <= encoded_dim * step^2 / (4 n) (task/rotated_quantization.h;
// 1.3x for concentration), the ring is the planned k + ceil(log2 n) bits, and
// the weight decodes to one per client.
TEST(CompressedRound, TheCoordinatorDecodesTheMeanWithinTheQuantizationBound) {
  std::mt19937_64 rng(61);
  for (int trial = 0; trial < 4; ++trial) {
    const int clients = std::uniform_int_distribution<int>(3, 40)(rng);
    const size_t length = std::uniform_int_distribution<size_t>(2000, 30000)(rng);
    const int k = std::uniform_int_distribution<int>(1, 10)(rng);
    SCOPED_TRACE(::testing::Message()
                 << "clients " << clients << " length " << length << " k " << k);
    const TaskConfig task = CompressedTask(clients, k);
    std::vector<uint32_t> cohort;
    for (int i = 1; i <= clients; ++i) cohort.push_back(static_cast<uint32_t>(i));
    absl::StatusOr<coordinator::RoundPlan> plan = coordinator::PlanRound(task, 5, cohort, length);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_TRUE(plan->compression.has_value());
    int cohort_bits = 0;
    while ((1 << cohort_bits) < clients) ++cohort_bits;
    EXPECT_EQ(plan->bits, static_cast<uint32_t>(std::max(k + cohort_bits, 8)));
    const secagg::FixedPointParams round{plan->bits, plan->clip_range, plan->scale,
                                         plan->max_weight};
    std::vector<double> mean(length, 0.0);
    std::vector<uint64_t> sum(plan->vector_length + 1, 0);
    const uint64_t mask = (uint64_t{1} << plan->bits) - 1;
    std::normal_distribution<double> normal(0, 1);
    for (int c = 0; c < clients; ++c) {
      std::vector<float> update(length);
      double norm = 0;
      for (float& v : update) {
        v = static_cast<float>(normal(rng));
        norm += static_cast<double>(v) * v;
      }
      const double scale =
          0.5 * std::uniform_real_distribution<double>(0, 1)(rng) / std::sqrt(norm);
      for (size_t i = 0; i < length; ++i) {
        update[i] = static_cast<float>(update[i] * scale);
        mean[i] += static_cast<double>(update[i]) / clients;
      }
      if (plan->evaluation) update.resize(length + kEvaluationCoordinates, 0.0f);
      absl::StatusOr<privacy::SeededBitSourceForSimulation> source =
          privacy::SeededBitSourceForSimulation::FromSeed(100 * trial + c, "test");
      ASSERT_TRUE(source.ok());
      privacy::RandomDraws draws(*source);
      CompressionCounts counts;
      absl::StatusOr<std::vector<int64_t>> encoded =
          EncodeCompressedInput(*plan->compression, DdgRotationSeed(plan->round_id), update, length,
                                1.0, round, draws, &counts);
      ASSERT_TRUE(encoded.ok()) << encoded.status();
      ASSERT_EQ(encoded->size(), sum.size());
      EXPECT_EQ(counts.clipped.load(), 0);
      for (size_t i = 0; i < sum.size(); ++i) {
        sum[i] = (sum[i] + secagg::ToModular((*encoded)[i], plan->bits)) & mask;
      }
    }
    secagg::AggregationResult result;
    for (int c = 1; c <= clients; ++c) result.survivor_ids.push_back(static_cast<uint32_t>(c));
    for (uint64_t v : sum) result.quantized_sum.push_back(secagg::FromModular(v, plan->bits));
    for (size_t i = 0; i < plan->vector_length; ++i) {
      result.weighted_sum.push_back(static_cast<double>(result.quantized_sum[i]) / plan->scale);
    }
    result.total_weight = static_cast<double>(result.quantized_sum.back()) / plan->scale;
    absl::StatusOr<coordinator::DecodedSum> decoded = coordinator::DecodeSum(*plan, result);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_NEAR(decoded->total_weight, clients, 1e-9);
    ASSERT_EQ(decoded->weighted_sum.size(),
              length + (plan->evaluation ? kEvaluationCoordinates : 0));
    double squared_error = 0;
    for (size_t i = 0; i < length; ++i) {
      const double e = decoded->weighted_sum[i] / clients - mean[i];
      squared_error += e * e;
    }
    EXPECT_LE(squared_error, 1.3 * plan->compression->MeanSquaredErrorBound(clients));

    // A crafted input (a client masking the top of the ring) is refused.
    secagg::AggregationResult crafted = result;
    crafted.quantized_sum[3] = secagg::FromModular(mask, plan->bits);
    EXPECT_EQ(coordinator::DecodeSum(*plan, crafted).status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(CompressedRound, AFederationIsTheSameWithSecureAggregationOnAndOff) {
  nlohmann::json json = SmallExperiment(8, 6, 2, 14);
  json["task"]["secure_agg"] = {
      {"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", 4}}}};
  json["task"]["cohort"]["min_survivors"] = 4;
  json["simulation"]["behaviour"] = {{"dropout", {{"unmasking", 0.1}}}};
  SimRun secure = Simulate(json);
  json["simulation"]["secure_aggregation"] = false;
  SimRun plain = Simulate(json);
  ASSERT_EQ(secure.result.rounds.size(), plain.result.rounds.size());
  int committed = 0;
  for (size_t i = 0; i < secure.result.rounds.size(); ++i) {
    EXPECT_EQ(secure.result.rounds[i].outcome, plain.result.rounds[i].outcome);
    committed += secure.result.rounds[i].outcome == "committed";
    EXPECT_GT(secure.result.rounds[i].rotated_coordinates.value_or(0), 0);
  }
  EXPECT_GT(committed, 0);
  EXPECT_EQ(secure.result.final_parameters, plain.result.final_parameters);
}

}  // namespace
}  // namespace tacit::sim
