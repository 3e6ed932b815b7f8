// The distributed discrete Gaussian end to end in one process: the laptop's
// encoding (client/federated/ddg_input.h), the modular sum secure aggregation
// computes, and the coordinator's decoding (coordinator/round/secure_round.h
// DecodeSum), on plans made the way both sides make them (task/ddg_task.h).

#include <cmath>
#include <random>
#include <vector>

#include "client/federated/ddg_input.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/round/secure_round.h"
#include "gtest/gtest.h"
#include "secure_agg/fixed_point.h"
#include "task/ddg_task.h"
#include "task/federated_evaluation.h"
#include "tests/simulations/small_experiment.h"

namespace tacit::sim {
namespace {

TaskConfig DdgTask(double z, double clip, int cohort, int min_survivors, int bits) {
  nlohmann::json json = SmallExperiment(cohort, cohort, 1, 1)["task"];
  json["cohort"] = {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", min_survivors}};
  json["secure_agg"]["bits"] = bits;
  json["dp"] = {{"clip_norm", clip}, {"noise_multiplier", z}};
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

// Random updates of norm up to 1.5 clip (some get clipped), encoded by every
// client, summed mod 2^bits, decoded: the error against the sum of the
// clipped updates is zero-mean noise of about z * clip per coordinate, the
// central noise the plan promises.
TEST(DiscreteGaussianRound, TheDecodedSumIsTheClippedSumPlusTheNoiseItPromises) {
  std::mt19937_64 rng(41);
  for (int trial = 0; trial < 3; ++trial) {
    const int clients = std::uniform_int_distribution<int>(5, 20)(rng);
    const size_t length = std::uniform_int_distribution<size_t>(3000, 9000)(rng);
    const double z = 0.5 + 2 * std::uniform_real_distribution<double>(0, 1)(rng);
    const double clip = 0.1 * (1 + trial);
    const int bits = 32 + 4 * trial;
    SCOPED_TRACE(::testing::Message() << "clients " << clients << " length " << length << " z " << z
                                      << " clip " << clip << " bits " << bits);
    const TaskConfig task = DdgTask(z, clip, clients, clients, bits);
    std::vector<uint32_t> cohort;
    for (int i = 1; i <= clients; ++i) cohort.push_back(static_cast<uint32_t>(i));
    absl::StatusOr<coordinator::RoundPlan> plan = coordinator::PlanRound(task, 7, cohort, length);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_TRUE(plan->ddg.has_value());
    EXPECT_EQ(plan->noise_stddev, 0.0) << "no continuous share on top";
    const secagg::FixedPointParams round{plan->bits, plan->clip_range, plan->scale,
                                         plan->max_weight};
    std::vector<double> clipped_sum(length, 0.0);
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
      const double target = clip * 1.5 * std::uniform_real_distribution<double>(0, 1)(rng);
      const double scale = target / std::sqrt(norm);
      const double kept = std::min(1.0, clip / target);
      for (size_t i = 0; i < length; ++i) {
        update[i] = static_cast<float>(update[i] * scale);
        clipped_sum[i] += update[i] * kept;
      }
      // The evaluation counts ride after the model (none scored here).
      if (plan->evaluation) update.resize(length + kEvaluationCoordinates, 0.0f);
      absl::StatusOr<privacy::SeededBitSourceForSimulation> source =
          privacy::SeededBitSourceForSimulation::FromSeed(1000 * trial + c, "test");
      ASSERT_TRUE(source.ok());
      privacy::RandomDraws draws(*source);
      absl::StatusOr<std::vector<int64_t>> encoded = EncodeDdgInput(
          *plan->ddg, DdgRotationSeed(plan->round_id), update, length, 1.0, round, draws);
      ASSERT_TRUE(encoded.ok()) << encoded.status();
      ASSERT_EQ(encoded->size(), sum.size());
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
    EXPECT_NEAR(decoded->total_weight, clients, 1e-6) << "every client weighs 1";
    ASSERT_EQ(decoded->weighted_sum.size(),
              length + (plan->evaluation ? kEvaluationCoordinates : 0));
    double mean = 0, square = 0;
    for (size_t i = 0; i < length; ++i) {
      const double error = decoded->weighted_sum[i] - clipped_sum[i];
      mean += error;
      square += error * error;
    }
    mean /= length;
    const double stddev = std::sqrt(square / length - mean * mean);
    // The central noise is z times the rounded sensitivity, a little above z
    // clip; the rounding adds at most gamma / 2 per client per coordinate.
    EXPECT_GT(stddev, 0.95 * z * clip);
    EXPECT_LT(stddev, 1.3 * z * clip);
    EXPECT_LT(std::fabs(mean), 5 * stddev / std::sqrt(static_cast<double>(length)));

    // One crafted encoding on top (a client masking a quarter of the ring in
    // every coordinate instead of its update): refused on decode.
    secagg::AggregationResult crafted = result;
    const int64_t huge = int64_t{1} << (plan->bits - 2);
    for (size_t i = 0; i < plan->encoded_model_length; ++i) {
      crafted.quantized_sum[i] = secagg::FromModular(
          secagg::ToModular(crafted.quantized_sum[i] + huge, plan->bits), plan->bits);
    }
    absl::StatusOr<coordinator::DecodedSum> refused = coordinator::DecodeSum(*plan, crafted);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
  }
}

// The plan is a function of the task: the laptop and the coordinator make
// the same one (the decoding depends on it), and a lying coordinator cannot
// hand the laptop a smaller noise.
TEST(DiscreteGaussianRound, TheLaptopAndTheCoordinatorPlanTheSame) {
  const TaskConfig task = DdgTask(1.3, 2.0, 12, 8, 32);
  std::vector<uint32_t> cohort;
  for (uint32_t i = 1; i <= 12; ++i) cohort.push_back(i);
  absl::StatusOr<coordinator::RoundPlan> plan = coordinator::PlanRound(task, 3, cohort, 5000);
  ASSERT_TRUE(plan.ok()) << plan.status();
  absl::StatusOr<privacy::DdgPlan> laptop = DdgPlanOfTask(task, task.cohort.min_survivors, 5000);
  ASSERT_TRUE(laptop.ok());
  EXPECT_EQ(laptop->mechanism.gamma, plan->ddg->mechanism.gamma);
  EXPECT_EQ(laptop->mechanism.local_variance, plan->ddg->mechanism.local_variance);
  EXPECT_EQ(laptop->mechanism.dim, plan->ddg->mechanism.dim);
  EXPECT_EQ(plan->encoded_model_length, 8192u);
  EXPECT_NE(plan->Describe().find("discrete Gaussian"), std::string::npos);
  TaskConfig continuous = task;
  continuous.dp.mechanism = DpMechanism::kContinuousGaussian;
  EXPECT_FALSE(DdgPlanOfTask(continuous, 8, 5000).ok());
}

// A whole federation with the discrete Gaussian is the same run bit for bit
// whether the sum is masked or not: secure aggregation computes exactly the
// modular sum of the encodings, dropouts included.
TEST(DiscreteGaussianRound, AFederationIsTheSameWithSecureAggregationOnAndOff) {
  nlohmann::json json = SmallExperiment(8, 6, 2, 13);
  json["task"]["dp"] = {{"clip_norm", 1.0}, {"noise_multiplier", 0.3}};
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
    EXPECT_EQ(secure.result.rounds[i].epsilon, plain.result.rounds[i].epsilon);
  }
  EXPECT_GT(committed, 0);
  EXPECT_EQ(secure.result.final_parameters, plain.result.final_parameters);
  EXPECT_GT(secure.result.rounds.back().epsilon, 0);
}

}  // namespace
}  // namespace tacit::sim
