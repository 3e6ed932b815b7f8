// The model a task resolves to (task/task_model.h), and what it refuses.

#include "task/task_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "tests/support/test_seed.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

// A stride above the window passed every config check, then the trainer
// refused it on every laptop: each round was abandoned with no update.
TEST(ResolveTaskModel, RefusesATrainingStrideLargerThanTheWindow) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 50; ++trial) {
    const int window = std::uniform_int_distribution<int>(2, 128)(rng);
    const int stride = std::uniform_int_distribution<int>(0, 2 * window)(rng);
    absl::StatusOr<TaskConfig> task =
        ParseTaskConfig({{"name", "t"},
                         {"model", {{"name", "gru"}, {"hyperparameters", {{"window", window}}}}},
                         {"vocab", {{"salt", "s"}}},
                         {"training", {{"window_stride", stride}}}});
    ASSERT_TRUE(task.ok()) << task.status();
    absl::StatusOr<ModelConfig> model = ResolveTaskModel(*task, "task");
    if (stride <= window) {
      ASSERT_TRUE(model.ok()) << "window " << window << " stride " << stride << ": "
                              << model.status();
      EXPECT_EQ(model->window, window);
    } else {
      ASSERT_FALSE(model.ok()) << "window " << window << " stride " << stride;
      EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(model.status().message(), HasSubstr("'task.training.window_stride'"));
      EXPECT_THAT(model.status().message(), HasSubstr(absl::StrCat("window of ", window)));
    }
  }
}

}  // namespace
}  // namespace tacit
