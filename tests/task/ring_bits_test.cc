// The ring a task plans (task/ring_bits.h) and the laptop's check of the
// coordinator's round parameters against it.

#include "task/ring_bits.h"

#include <cmath>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "task/task_proto.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

nlohmann::json BaseTask(int cohort) {
  return {{"name", "ring"},
          {"model", {{"name", "gru"}}},
          {"vocab", {{"salt", "s"}}},
          {"cohort", {{"size", cohort}, {"over_selection", 1.0}}}};
}

TaskConfig Parse(const nlohmann::json& j) {
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(j);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

v1::SecAggRoundParameters Round(uint32_t bits, uint32_t cohort) {
  v1::SecAggRoundParameters p;
  p.set_bits(bits);
  p.set_cohort_size(cohort);
  return p;
}

// Unset bits are planned. Fixed point: the largest sum of the largest cohort
// at the task's weight cap and clip, at 2^16 steps per clip range, fits the
// signed ring (the bound CheckNoWrap holds the coordinator to), and one bit
// less does not.
TEST(RingBits, UnsetBitsArePlannedFromCohortWeightAndClip) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const int cohort = std::uniform_int_distribution<int>(2, 3000)(rng);
    const double over = std::uniform_real_distribution<double>(1.0, 1.5)(rng);
    const double clip = std::uniform_real_distribution<double>(0.1, 8.0)(rng);
    const double max_weight = std::uniform_int_distribution<int>(1, 20000)(rng);
    nlohmann::json j = BaseTask(cohort);
    j["cohort"]["over_selection"] = over;
    j["secure_agg"] = {{"clip_range", clip}};
    j["aggregation"] = {{"weighting", "examples"}, {"max_weight", max_weight}};
    const TaskConfig task = Parse(j);
    EXPECT_EQ(task.secure_agg.bits, kAutoBits) << "unset means auto";
    absl::StatusOr<int> bits = RingBitsOfTask(task, 1000);
    ASSERT_TRUE(bits.ok()) << bits.status();
    const double n = static_cast<double>(MaxClientsInSum(task));
    EXPECT_GE(n, task.SelectedPerRound());
    const double element =
        std::ceil(max_weight * std::max(clip, 1.0) * std::ldexp(1.0, kAutoResolutionBits)) + 1;
    EXPECT_LE(n * element, std::ldexp(1.0, *bits - 1) - 1) << "the sum cannot wrap";
    EXPECT_GT(n * element, std::ldexp(1.0, *bits - 2) - 1) << "and the ring is the smallest";
  }
}

TEST(RingBits, ExplicitBitsAreHonoured) {
  nlohmann::json j = BaseTask(40);
  j["secure_agg"] = {{"bits", 40}};
  absl::StatusOr<int> bits = RingBitsOfTask(Parse(j), 1000);
  ASSERT_TRUE(bits.ok());
  EXPECT_EQ(*bits, 40);
  j["secure_agg"] = {{"bits", 7}};
  EXPECT_FALSE(ParseTaskConfig(j).ok()) << "below 8 bits (and not 0, auto)";
}

TEST(RingBits, CompressionPlansBitsPerCoordinatePlusTheCohortsBits) {
  nlohmann::json j = BaseTask(40);
  j["secure_agg"] = {
      {"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", 9}}}};
  absl::StatusOr<int> bits = RingBitsOfTask(Parse(j), 1'562'112);
  ASSERT_TRUE(bits.ok()) << bits.status();
  EXPECT_EQ(*bits, 9 + 6);  // 40 clients: 6 bits
  absl::StatusOr<std::string> line = DescribeRingOfTask(Parse(j), 1'562'112);
  ASSERT_TRUE(line.ok());
  EXPECT_THAT(*line, HasSubstr("15 bits (planned"));
  EXPECT_THAT(*line, HasSubstr("1.875 bytes per parameter"));
}

// A lying coordinator announcing a narrower ring (the sum wraps, and a
// wrapped sum can single out an input), a wider one (the laptop uploads more
// than the task needs) or a bigger cohort than the ring was planned for is
// refused; the laptop's own plan passes. Also through the task's wire form,
// as the laptop receives it.
TEST(RingBits, TheLaptopRefusesARingOrCohortItDidNotPlan) {
  nlohmann::json j = BaseTask(40);
  j["secure_agg"] = {
      {"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", 4}}}};
  absl::StatusOr<TaskConfig> task = TaskFromProto(TaskToProto(Parse(j)));
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_EQ(task->secure_agg.compression.type, CompressionType::kRotatedQuantization);
  EXPECT_TRUE(CheckRoundRing(*task, 5000, Round(10, 40)).ok());
  absl::Status narrow = CheckRoundRing(*task, 5000, Round(9, 40));
  EXPECT_EQ(narrow.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(narrow.message(), HasSubstr("a narrower ring lets the sum wrap"));
  absl::Status wide = CheckRoundRing(*task, 5000, Round(32, 40));
  EXPECT_THAT(wide.message(), HasSubstr("a wider ring sends more bytes"));
  absl::Status crowded = CheckRoundRing(*task, 5000, Round(10, 41));
  EXPECT_EQ(crowded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(crowded.message(), HasSubstr("41 clients"));
}

}  // namespace
}  // namespace tacit
