// Rotated quantization (task/rotated_quantization.h) on its own: the blocks,
// the plan a task implies, and a round's worth of encodings summed modulo
// 2^bits and decoded, against the mean of the clipped updates.

#include "task/rotated_quantization.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "privacy/random_bits.h"
#include "task/ring_bits.h"
#include "task/task_config.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

TaskConfig CompressedTask(int cohort, int k, double clip, double range_sigmas, int bits = 0) {
  nlohmann::json j = {
      {"name", "compressed"},
      {"model", {{"name", "gru"}}},
      {"vocab", {{"salt", "s"}}},
      {"cohort", {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", cohort}}},
      {"secure_agg",
       {{"bits", bits},
        {"compression",
         {{"type", "rotated_quantization"},
          {"bits_per_coordinate", k},
          {"range_sigmas", range_sigmas}}}}},
      {"dp", {{"clip_norm", clip}}}};
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(j);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

std::vector<double> RandomUpdate(std::mt19937_64& rng, size_t dim, double norm) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> x(dim);
  double squared = 0;
  for (double& v : x) {
    v = normal(rng);
    squared += v * v;
  }
  for (double& v : x) v *= norm / std::sqrt(squared);
  return x;
}

// Every client's levels summed modulo 2^bits, as the secure sum unmasks them.
struct RingSum {
  std::vector<uint64_t> sums;
  uint64_t mask;
  RingSum(size_t n, int bits) : sums(n, 0), mask((uint64_t{1} << bits) - 1) {}
  void Add(const std::vector<uint64_t>& levels) {
    for (size_t i = 0; i < sums.size(); ++i) sums[i] = (sums[i] + levels[i]) & mask;
  }
};

QuantizedUpdate Quantize(const std::vector<double>& x, const RotatedQuantizationPlan& plan,
                         uint64_t rotation_seed, uint64_t rounding_seed) {
  absl::StatusOr<privacy::SeededBitSourceForSimulation> source =
      privacy::SeededBitSourceForSimulation::FromSeed(rounding_seed, "rotated quantization test");
  EXPECT_TRUE(source.ok());
  privacy::RandomDraws draws(*source);
  absl::StatusOr<QuantizedUpdate> q = QuantizeRotated(x, plan, rotation_seed, draws);
  EXPECT_TRUE(q.ok()) << q.status();
  return *std::move(q);
}

TEST(RotationBlocks, PowersOfTwoCoveringTheVectorWithLessThanTheSmallestBlockOfPadding) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t dim = std::uniform_int_distribution<size_t>(1, 3'000'000)(rng);
    size_t total = 0;
    size_t previous = kMaxRotationBlock;
    for (size_t block : RotationBlocks(dim)) {
      EXPECT_EQ(block & (block - 1), 0u) << block;
      EXPECT_GE(block, kMinRotationBlock);
      EXPECT_LE(block, previous) << "decreasing";
      previous = block;
      total += block;
    }
    EXPECT_GE(total, dim);
    EXPECT_LT(total, dim + kMinRotationBlock) << dim;
  }
}

// The property the round rests on. Random lengths (mostly not powers of
// two), cohorts, k and seeds; updates of norm up to the clip. With the range
// at 6 sigma nothing is clipped after rotation, so the only error is the
// stochastic rounding: independent, zero-mean, at most step^2 / 4 variance per
// rotated coordinate per client, and the rotation is orthonormal, so
//   E ||decoded mean - mean||^2 <= encoded_dim * step^2 / (4 n).
// The squared error is a sum of encoded_dim independent bounded terms, so it
// concentrates: it must stay below 1.3x the bound (over 5 of its standard
// deviations above the mean for the smallest vectors drawn here).
TEST(RotatedQuantization, TheDecodedMeanIsTheMeanWithinTheQuantizationBound) {
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 12; ++trial) {
    const size_t dim = std::uniform_int_distribution<size_t>(300, 40'000)(rng);
    const int clients = std::uniform_int_distribution<int>(2, 60)(rng);
    const int k = std::uniform_int_distribution<int>(1, 12)(rng);
    const double clip = std::uniform_real_distribution<double>(0.01, 10)(rng);
    const uint64_t rotation_seed = rng();
    SCOPED_TRACE(::testing::Message()
                 << "dim " << dim << " clients " << clients << " k " << k << " clip " << clip);
    const TaskConfig task = CompressedTask(clients, k, clip, 6.0);
    absl::StatusOr<RotatedQuantizationPlan> plan =
        RotatedQuantizationPlanOfTask(task, static_cast<int64_t>(dim));
    ASSERT_TRUE(plan.ok()) << plan.status();
    RingSum ring(plan->encoded_dim, plan->bits);
    std::vector<double> mean(dim, 0.0);
    for (int c = 0; c < clients; ++c) {
      const double norm = clip * std::uniform_real_distribution<double>(0, 1)(rng);
      std::vector<double> x = RandomUpdate(rng, dim, norm);
      for (size_t i = 0; i < dim; ++i) mean[i] += x[i] / clients;
      QuantizedUpdate q = Quantize(x, *plan, rotation_seed, rng());
      ASSERT_EQ(q.levels.size(), plan->encoded_dim);
      EXPECT_EQ(q.clipped, 0);
      for (uint64_t level : q.levels) ASSERT_LE(level, (uint64_t{1} << k) - 1);
      ring.Add(q.levels);
    }
    absl::StatusOr<std::vector<double>> sum =
        DecodeRotatedSum(ring.sums, *plan, rotation_seed, clients);
    ASSERT_TRUE(sum.ok()) << sum.status();
    ASSERT_EQ(sum->size(), dim);
    double squared_error = 0;
    for (size_t i = 0; i < dim; ++i) {
      const double e = (*sum)[i] / clients - mean[i];
      squared_error += e * e;
    }
    const double bound = plan->MeanSquaredErrorBound(clients);
    EXPECT_LE(squared_error, 1.3 * bound);
    // Not vacuous: rounding does add error, a good share of the bound.
    EXPECT_GT(squared_error, 0.2 * bound);
  }
}

// Unbiased: the same update encoded R times with fresh rounding decodes, on
// average, to the update itself; the average's squared error falls as 1/R
// (bound / R, 1.5x for concentration) instead of staying at one encoding's.
TEST(RotatedQuantization, StochasticRoundingIsUnbiasedOverRepeats) {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 3; ++trial) {
    const size_t dim = std::uniform_int_distribution<size_t>(500, 5000)(rng);
    const int k = std::uniform_int_distribution<int>(1, 4)(rng);
    const TaskConfig task = CompressedTask(2, k, 1.0, 6.0);
    absl::StatusOr<RotatedQuantizationPlan> plan =
        RotatedQuantizationPlanOfTask(task, static_cast<int64_t>(dim));
    ASSERT_TRUE(plan.ok()) << plan.status();
    const std::vector<double> x = RandomUpdate(rng, dim, 0.8);
    const uint64_t rotation_seed = rng();
    constexpr int kRepeats = 64;
    std::vector<double> average(dim, 0.0);
    for (int r = 0; r < kRepeats; ++r) {
      QuantizedUpdate q = Quantize(x, *plan, rotation_seed, rng());
      absl::StatusOr<std::vector<double>> one = DecodeRotatedSum(q.levels, *plan, rotation_seed, 1);
      ASSERT_TRUE(one.ok()) << one.status();
      for (size_t i = 0; i < dim; ++i) average[i] += (*one)[i] / kRepeats;
    }
    double squared_error = 0;
    for (size_t i = 0; i < dim; ++i) squared_error += (average[i] - x[i]) * (average[i] - x[i]);
    EXPECT_LE(squared_error, 1.5 * plan->MeanSquaredErrorBound(1) / kRepeats)
        << "dim " << dim << " k " << k;
  }
}

// The planned ring holds the largest sum honest clients can make: every
// client at the top level in every coordinate, at the largest cohort the task
// allows. The sum decodes without wrapping (it is exactly what was summed),
// and one bit less would wrap it.
TEST(RotatedQuantization, ThePlannedRingNeverWrapsAtTheLargestCohort) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 40; ++trial) {
    const int cohort = std::uniform_int_distribution<int>(2, 5000)(rng);
    const int k = std::uniform_int_distribution<int>(1, 24)(rng);
    const TaskConfig task = CompressedTask(cohort, k, 1.0, 4.0);
    absl::StatusOr<RotatedQuantizationPlan> plan = RotatedQuantizationPlanOfTask(task, 1000);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_EQ(plan->max_clients, cohort);
    const uint64_t top = (uint64_t{1} << k) - 1;
    const absl::uint128 largest = absl::uint128(top) * static_cast<uint64_t>(cohort);
    EXPECT_LT(largest, absl::uint128(1) << plan->bits) << "cohort " << cohort << " k " << k;
    // The ring holds the largest sum and no more, unless the fixed-point
    // weight and evaluation counts need more; never beyond k + ceil(log2
    // cohort) (Suresh et al.'s count).
    absl::StatusOr<int> fixed_point = FixedPointRingBits(task, 0);
    ASSERT_TRUE(fixed_point.ok());
    int cohort_bits = 0;
    while ((1 << cohort_bits) < cohort) ++cohort_bits;
    EXPECT_LE(plan->bits, std::max(k + cohort_bits, *fixed_point));
    // The ring is as narrow as it can be: a sum at the ceiling needs its top bit.
    if (plan->bits > *fixed_point) {
      EXPECT_GE(largest, absl::uint128(1) << (plan->bits - 1)) << "cohort " << cohort << " k " << k;
    }
    // Every client at the top level in one rotated coordinate (cohort * R
    // there, the zero level elsewhere): below the ceiling, so no DataLoss,
    // and no wrap: it decodes to that coordinate's cohort * R.
    std::vector<uint64_t> sums(plan->encoded_dim, top * static_cast<uint64_t>(cohort) / 2);
    sums[3] = static_cast<uint64_t>(largest & ((absl::uint128(1) << plan->bits) - 1));
    absl::StatusOr<std::vector<double>> decoded = DecodeRotatedSum(sums, *plan, 9, cohort);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
  }
}

// Every client sends the same update at the clip norm: the largest honest
// sum (norm cohort * clip, plus rounding) is never refused by the norm check.
TEST(RotatedQuantization, AlignedUpdatesAtTheClipNormAreNeverRefused) {
  std::mt19937_64 rng(31);
  for (int trial = 0; trial < 10; ++trial) {
    const size_t dim = std::uniform_int_distribution<size_t>(300, 20'000)(rng);
    const int clients = std::uniform_int_distribution<int>(1, 40)(rng);
    const int k = std::uniform_int_distribution<int>(1, 8)(rng);
    const double clip = std::uniform_real_distribution<double>(0.01, 10)(rng);
    SCOPED_TRACE(::testing::Message()
                 << "dim " << dim << " clients " << clients << " k " << k << " clip " << clip);
    const TaskConfig task = CompressedTask(clients, k, clip, 4.0);
    absl::StatusOr<RotatedQuantizationPlan> plan =
        RotatedQuantizationPlanOfTask(task, static_cast<int64_t>(dim));
    ASSERT_TRUE(plan.ok()) << plan.status();
    const std::vector<double> x = RandomUpdate(rng, dim, clip);
    RingSum ring(plan->encoded_dim, plan->bits);
    for (int c = 0; c < clients; ++c) ring.Add(Quantize(x, *plan, 5, rng()).levels);
    absl::StatusOr<std::vector<double>> sum = DecodeRotatedSum(ring.sums, *plan, 5, clients);
    ASSERT_TRUE(sum.ok()) << sum.status();
  }
}

// The per-coordinate ceiling alone let two clients of a ten-client cohort
// put R in every rotated coordinate: a sum of norm about 2 * range_sigmas *
// clip, four times what two clipped updates can reach.
TEST(RotatedQuantization, ACraftedSumWithinTheCeilingButBeyondTheClipNormIsRefused) {
  const TaskConfig task = CompressedTask(10, 3, 1.0, 4.0);
  absl::StatusOr<RotatedQuantizationPlan> plan = RotatedQuantizationPlanOfTask(task, 3000);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<uint64_t> sums(plan->encoded_dim, 2 * 7);  // both clients at the top level
  absl::StatusOr<std::vector<double>> decoded = DecodeRotatedSum(sums, *plan, 1, 2);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << decoded.status();
  EXPECT_THAT(decoded.status().message(), HasSubstr("beyond the"));
  EXPECT_THAT(decoded.status().message(), HasSubstr("clipped to 1"));
}

// A sum above what `clients` honest encodings reach was crafted (or wrapped):
// nothing to apply.
TEST(RotatedQuantization, ASumBeyondHonestEncodingsIsRefused) {
  const TaskConfig task = CompressedTask(10, 3, 1.0, 4.0);
  absl::StatusOr<RotatedQuantizationPlan> plan = RotatedQuantizationPlanOfTask(task, 3000);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<uint64_t> sums(plan->encoded_dim, 0);
  sums[17] = 7 * 4 + 1;  // four clients can reach 28 at most
  absl::StatusOr<std::vector<double>> decoded = DecodeRotatedSum(sums, *plan, 1, 4);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << decoded.status();
}

// After rotation a coordinate beyond the range is clipped and counted: an
// update far above the clip norm it was planned for shows up there.
TEST(RotatedQuantization, CoordinatesBeyondTheRangeAreClippedAndCounted) {
  const TaskConfig task = CompressedTask(4, 4, 1.0, 2.0);
  absl::StatusOr<RotatedQuantizationPlan> plan = RotatedQuantizationPlanOfTask(task, 4096);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::mt19937_64 rng(8);
  QuantizedUpdate within = Quantize(RandomUpdate(rng, 4096, 0.1), *plan, 1, 2);
  EXPECT_EQ(within.clipped, 0);
  QuantizedUpdate beyond = Quantize(RandomUpdate(rng, 4096, 10.0), *plan, 1, 2);
  EXPECT_GT(beyond.clipped, 4096 / 2);
}

TEST(RotatedQuantization, AnExplicitRingTooNarrowForTheCompressedSumIsRefused) {
  nlohmann::json j = {
      {"name", "t"},
      {"model", {{"name", "gru"}}},
      {"vocab", {{"salt", "s"}}},
      {"cohort", {{"size", 40}, {"over_selection", 1.0}}},
      {"secure_agg",
       {{"bits", 10},
        {"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", 8}}}}}};
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(j);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("use at least 14 bits"));
  j["secure_agg"]["bits"] = 14;
  EXPECT_TRUE(ParseTaskConfig(j).ok());
  j["secure_agg"]["bits"] = 0;
  j["aggregation"] = {{"weighting", "examples"}};
  task = ParseTaskConfig(j);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("needs aggregation.weighting \"uniform\""));
  j.erase("aggregation");
  j["secure_agg"]["compression"]["bits_per_coordinate"] = 25;
  task = ParseTaskConfig(j);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("secure_agg.compression.bits_per_coordinate"));
}

}  // namespace
}  // namespace tacit
