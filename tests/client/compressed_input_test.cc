// The laptop's rotated-quantization encoder (client/federated/compressed_input.h):
// it encodes with its own plan of the task and refuses a round whose ring is
// not that plan's.

#include "client/federated/compressed_input.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "task/federated_evaluation.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

RotatedQuantizationPlan PlanFor(int cohort, int k, int64_t length) {
  nlohmann::json j = {
      {"name", "compressed"},
      {"model", {{"name", "gru"}}},
      {"vocab", {{"salt", "s"}}},
      {"cohort", {{"size", cohort}, {"over_selection", 1.0}}},
      {"secure_agg",
       {{"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", k}}}}}};
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(j);
  EXPECT_TRUE(task.ok()) << task.status();
  absl::StatusOr<RotatedQuantizationPlan> plan = RotatedQuantizationPlanOfTask(*task, length);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

std::vector<float> Update(size_t length) {
  std::mt19937_64 rng(4);
  std::normal_distribution<float> normal(0, 1e-3f);
  std::vector<float> update(length + kEvaluationCoordinates, 0.0f);
  for (size_t i = 0; i < length; ++i) update[i] = normal(rng);
  return update;
}

TEST(CompressedInput, EncodesLevelsThenTheFixedPointTail) {
  const RotatedQuantizationPlan plan = PlanFor(20, 3, 1000);
  const secagg::FixedPointParams round{static_cast<uint32_t>(plan.bits), 1.0, 4.0, 1.0};
  auto counts = std::make_shared<CompressionCounts>();
  secagg::InputEncoder encoder =
      CompressedInputEncoder(plan, 7, 1000, counts, SeededRounding{1, {}});
  absl::StatusOr<std::vector<int64_t>> encoded = encoder(Update(1000), 1.0, round);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  ASSERT_EQ(encoded->size(), plan.encoded_dim + kEvaluationCoordinates + 1);
  for (size_t i = 0; i < plan.encoded_dim; ++i) {
    EXPECT_GE((*encoded)[i], 0);
    EXPECT_LE((*encoded)[i], 7);
  }
  EXPECT_EQ(encoded->back(), 4) << "the weight, 1 at scale 4";
  EXPECT_EQ(counts->encoded.load(), static_cast<int64_t>(plan.encoded_dim));
  // Seeded (simulations): the same bytes again.
  EXPECT_EQ(*encoder(Update(1000), 1.0, round), *encoded);
}

// The coordinator announces a ring other than the one the laptop planned
// from the task: fewer bits would let the sum wrap, more waste the upload.
TEST(CompressedInput, RefusesARingItDidNotPlan) {
  const RotatedQuantizationPlan plan = PlanFor(40, 4, 600);
  ASSERT_EQ(plan.bits, 10);
  for (uint32_t bits : {9u, 11u, 32u}) {
    const secagg::FixedPointParams round{bits, 1.0, 1.0, 1.0};
    absl::StatusOr<std::vector<int64_t>> encoded =
        CompressedInputEncoder(plan, 1, 600)(Update(600), 1.0, round);
    EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument) << bits;
    EXPECT_THAT(encoded.status().message(), HasSubstr("planned for 10 bits"));
  }
  const secagg::FixedPointParams round{10, 1.0, 1.0, 1.0};
  absl::StatusOr<std::vector<int64_t>> weighted =
      CompressedInputEncoder(plan, 1, 600)(Update(600), 2.0, round);
  EXPECT_THAT(weighted.status().message(), HasSubstr("weight 1"));
}

}  // namespace
}  // namespace tacit
