// Resuming a task: epsilon is re-composed from the state store's typed
// cohort_size and population columns, never from the metrics JSON.

#include "coordinator/service/task_resume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "task/task_model.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

RoundRecord Committed(int64_t id, int64_t number, std::optional<int> cohort,
                      std::optional<int64_t> population) {
  RoundRecord r;
  r.id = id;
  r.round_number = number;
  r.status = RoundStatus::kCommitted;
  r.cohort_size = cohort;
  r.population = population;
  return r;
}

TEST(CommittedCohortSizes, ReadsEveryRoundUpToTheVersionInOrder) {
  RoundRecord abandoned = Committed(2, 2, std::nullopt, std::nullopt);
  abandoned.status = RoundStatus::kAbandoned;
  std::vector<RoundRecord> rounds = {Committed(3, 2, 5, 100), abandoned, Committed(1, 1, 4, 100),
                                     Committed(4, 3, 6, 100)};
  std::vector<int64_t> unrecorded;
  auto sizes = CommittedCohortSizes(rounds, 2, 100, &unrecorded);
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_EQ(*sizes, (std::vector<int>{4, 5}));  // round 3 is past the checkpoint
  EXPECT_TRUE(unrecorded.empty());
  EXPECT_TRUE(CommittedCohortSizes({}, 0, 100, nullptr)->empty());
}

TEST(CommittedCohortSizes, RefusesWhatCannotBeComposedNamingTheRound) {
  auto missing = CommittedCohortSizes({Committed(1, 1, 4, 100)}, 2, 100, nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("round 2 has no committed record"));
  auto no_size = CommittedCohortSizes({Committed(9, 1, std::nullopt, 100)}, 1, 100, nullptr);
  EXPECT_THAT(no_size.status().message(), HasSubstr("committed round 1 (round id 9)"));
  auto other_population = CommittedCohortSizes({Committed(1, 1, 4, 100)}, 1, 50, nullptr);
  EXPECT_EQ(other_population.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other_population.status().message(), HasSubstr("--population 100"));
  auto twice =
      CommittedCohortSizes({Committed(1, 1, 4, 100), Committed(2, 1, 4, 100)}, 1, 100, nullptr);
  EXPECT_THAT(twice.status().message(), HasSubstr("committed twice"));
}

TEST(CommittedCohortSizes, ListsRoundsCommittedBeforeThePopulationWasRecorded) {
  std::vector<int64_t> unrecorded;
  auto sizes = CommittedCohortSizes({Committed(1, 1, 4, std::nullopt), Committed(2, 2, 4, 100)}, 2,
                                    100, &unrecorded);
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(unrecorded, (std::vector<int64_t>{1}));
}

TaskConfig NoisyTask() {
  auto task = ParseTaskConfig(
      {{"name", "resume-test"},
       {"model",
        {{"name", "gru"},
         {"hyperparameters", {{"embedding_dim", 4}, {"hidden_dim", 4}, {"window", 4}}}}},
       {"vocab", {{"size", 16}, {"salt", "s"}}},
       {"cohort", {{"size", 3}, {"over_selection", 1.0}, {"min_survivors", 3}}},
       {"dp", {{"noise_multiplier", 1.0}}}});
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

TEST(ResumeTask, RecomposesEpsilonFromTypedColumnsAfterACommit) {
  const TaskConfig task = NoisyTask();
  const std::string dir = ::testing::TempDir() + "/task_resume_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto model_config = ResolveTaskModel(task);
  ASSERT_TRUE(model_config.ok()) << model_config.status();
  constexpr int64_t kPopulation = 200;
  double spent = 0;
  std::vector<float> parameters;
  {
    auto store = StateStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    auto id = (*store)->UpsertTask(task.name, TaskConfigToJson(task));
    ASSERT_TRUE(id.ok());
    auto fresh = ResumeTask(task, **store, *id, kPopulation, *model_config, 1);
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    GlobalModel& model = *fresh->model;
    EXPECT_EQ(model.version(), 0);
    EXPECT_EQ(model.epsilon(), 0);
    ASSERT_TRUE(model.ApplyRound(std::vector<float>(model.parameters().size(), 1e-3f), 3).ok());
    spent = model.epsilon();
    ASSERT_GT(spent, 0);
    parameters = model.parameters();
    auto round = (*store)->BeginRound(*id, 1);
    ASSERT_TRUE(round.ok());
    // The metrics JSON claims another cohort: restore must not read it.
    Checkpoint checkpoint{*id, 1, parameters, model.optimizer().SerializeState()};
    ASSERT_TRUE((*store)
                    ->CommitRound(round->id, checkpoint, RoundPrivacy{3, kPopulation},
                                  {{"cohort_size", 150}, {"epsilon", 99.0}})
                    .ok());
  }
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto resumed = ResumeTask(task, **store, 1, kPopulation, *model_config, 1);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->model->version(), 1);
  EXPECT_EQ(resumed->model->parameters(), parameters);
  EXPECT_DOUBLE_EQ(resumed->model->epsilon(), spent);
  EXPECT_TRUE(resumed->warnings.empty());
  // Another population would compose another sampling rate: refused.
  auto refused = ResumeTask(task, **store, 1, kPopulation / 2, *model_config, 1);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("committed round 1"));
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tacit::coordinator
