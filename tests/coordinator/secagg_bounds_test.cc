// check-config's and serve's secure aggregation bounds
// (coordinator/round/secagg_bounds.h).

#include "coordinator/round/secagg_bounds.h"

#include <random>

#include "absl/strings/str_cat.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "secure_agg/parameters.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

TaskConfig Task(int cohort, int min_survivors, int neighbors, int threshold) {
  nlohmann::json json = {
      {"name", "bounds-test"},
      {"model", {{"name", "gru"}}},
      {"vocab", {{"salt", "s"}}},
      {"cohort", {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", min_survivors}}},
      {"secure_agg", {{"neighbors", neighbors}, {"threshold", threshold}}}};
  auto task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

// The shipped example's 40 neighbours with threshold 28 for 650 clients and
// 46% assumed dropout: a cut of 20 consecutive removed clients has
// probability 2^-7, not 2^-40. This override used to pass check-config silently.
TEST(SecAggBoundsTest, AWeakOverrideIsRefusedWithItsFigures) {
  TaskConfig task = Task(500, 350, 40, 28);
  task.cohort.over_selection = 1.3;
  auto report = EvaluateSecAggBounds(task);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->overridden);
  EXPECT_EQ(report->cohort, 650u);
  EXPECT_EQ(report->neighbors, 40u);
  EXPECT_EQ(report->threshold, 28u);
  EXPECT_GT(report->log2_privacy_failure, -40);
  EXPECT_TRUE(report->MissesPrivacyTarget());
  EXPECT_TRUE(report->OverrideIsWorse());
  absl::Status refused = RefuseWeakOverrides(*report);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(refused.message(), HasSubstr("worse than the targets"));
  EXPECT_THAT(refused.message(), HasSubstr("--force"));
  EXPECT_THAT(report->Describe(), HasSubstr("WARNING: the privacy bound misses its target"));
}

// Issue 19: `cohort.size 3, min_survivors 2` passed check-config, then a
// round whose selection closed with 2 clients kept them waiting forever
// ("secure aggregation needs a cohort of at least 3", only in the log).
TEST(SecAggBoundsTest, RefusesAMinimumCohortTheRoundCannotRun) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  for (int i = 0; i < 20; ++i) {
    const int cohort = 3 + static_cast<int>(rng() % 200);
    auto refused = EvaluateSecAggBounds(Task(cohort, 2, 0, 0));
    ASSERT_TRUE(absl::IsFailedPrecondition(refused.status())) << cohort;
    EXPECT_THAT(refused.status().message(), HasSubstr("cohort.min_survivors 2"));
    EXPECT_THAT(refused.status().message(), HasSubstr("at least 3"));
    const int min_survivors = 3 + static_cast<int>(rng() % (cohort - 2));
    auto report = EvaluateSecAggBounds(Task(cohort, min_survivors, 0, 0));
    ASSERT_TRUE(report.ok()) << cohort << " " << min_survivors << ": " << report.status();
    EXPECT_EQ(report->min_survivors, static_cast<uint32_t>(min_survivors));
    EXPECT_EQ(report->max_dropouts, static_cast<uint32_t>(cohort - min_survivors));
    EXPECT_THAT(report->Describe(),
                HasSubstr(absl::StrCat("tolerates up to ", cohort - min_survivors, " dropouts")));
  }
}

// The automatic choice is never refused, and an override equal to it neither.
TEST(SecAggBoundsTest, AutomaticChoicesAndOverridesEqualToThemPass) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  for (int i = 0; i < 20; ++i) {
    const int cohort = 3 + static_cast<int>(rng() % 400);
    const int min_survivors = std::max(3, cohort - static_cast<int>(rng() % (cohort / 3 + 1)));
    auto automatic = EvaluateSecAggBounds(Task(cohort, min_survivors, 0, 0));
    ASSERT_TRUE(automatic.ok()) << automatic.status();
    EXPECT_FALSE(automatic->overridden);
    EXPECT_TRUE(RefuseWeakOverrides(*automatic).ok());
    const int k = static_cast<int>(automatic->neighbors);
    const int t = static_cast<int>(automatic->threshold);
    auto same = EvaluateSecAggBounds(Task(cohort, min_survivors, k, k > 0 ? t : 0));
    ASSERT_TRUE(same.ok()) << same.status();
    EXPECT_TRUE(RefuseWeakOverrides(*same).ok())
        << "cohort " << cohort << " k " << k << " t " << t << "\n"
        << same->Describe();
  }
}

// The figures are secure_agg/parameters.h's for the plan's threshold and degree.
TEST(SecAggBoundsTest, FiguresAreTheParameterModulesBounds) {
  auto report = EvaluateSecAggBounds(Task(300, 270, 60, 40));
  ASSERT_TRUE(report.ok()) << report.status();
  secagg::ParameterRequest request;
  request.cohort_size = 300;
  request.dropout_rate = 0.1;
  request.corruption_rate = 0.1;
  auto expected = secagg::EvaluateParameters(request, report->threshold, report->neighbors);
  ASSERT_TRUE(expected.ok());
  EXPECT_DOUBLE_EQ(report->log2_privacy_failure, expected->log2_privacy_failure);
  EXPECT_DOUBLE_EQ(report->log2_correctness_failure, expected->log2_correctness_failure);
}

}  // namespace
}  // namespace tacit::coordinator
