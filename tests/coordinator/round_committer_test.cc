// Committing and abandoning through the RoundCommitter: the server optimizer
// first, then one StateStore commit with the typed privacy facts.

#include "coordinator/service/round_committer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "coordinator/structured_log.h"
#include "spdlog/sinks/null_sink.h"

namespace tacit::coordinator {
namespace {

class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/round_committer_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    auto task = ParseTaskConfig({{"name", "committer-test"},
                                 {"model", {{"name", "gru"}}},
                                 {"vocab", {{"salt", "s"}}},
                                 {"dp", {{"noise_multiplier", 1.0}}}});
    ASSERT_TRUE(task.ok()) << task.status();
    task_ = *task;
    auto store = StateStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto id = store_->UpsertTask(task_.name, TaskConfigToJson(task_));
    ASSERT_TRUE(id.ok());
    task_id_ = *id;
    auto model = GlobalModel::Create(task_, std::vector<float>(4, 0.f), 1000);
    ASSERT_TRUE(model.ok());
    model_ = std::make_unique<GlobalModel>(*std::move(model));
    ASSERT_TRUE(store_->CommitInitialModel({task_id_, 0, model_->parameters(), ""}).ok());
    auto round = store_->BeginRound(task_id_, 1);
    ASSERT_TRUE(round.ok());
    round_ = *round;
    committer_ = std::make_unique<RoundCommitter>(
        store_.get(), task_id_, 1000,
        MakeJsonLogger("test", {std::make_shared<spdlog::sinks::null_sink_mt>()}));
  }
  void TearDown() override {
    committer_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  TaskConfig task_;
  std::unique_ptr<StateStore> store_;
  int64_t task_id_ = 0;
  std::unique_ptr<GlobalModel> model_;
  RoundRecord round_;
  std::unique_ptr<RoundCommitter> committer_;
};

TEST_F(CommitterTest, CommitsTheUpdateWithTypedPrivacyFactsAndTheSummary) {
  RoundAggregate aggregate;
  aggregate.mean_update = {0.5f, -0.5f, 0.25f, 0.f};
  aggregate.survivors = {1, 2, 3};
  FederatedEvaluation evaluation;
  evaluation.sums.predictions = 10;
  aggregate.evaluation = evaluation;
  RoundSummary summary;
  summary.round_number = 1;
  summary.cohort_size = 5;
  summary.survivors = 3;
  auto committed = committer_->Commit(*model_, round_, aggregate, summary);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->outcome, AttemptOutcome::kCommitted);
  EXPECT_EQ(model_->version(), 1);
  EXPECT_GT(model_->epsilon(), 0);
  EXPECT_DOUBLE_EQ(committed->epsilon, model_->epsilon());
  ASSERT_TRUE(committed->evaluation.has_value());
  EXPECT_EQ(committed->evaluation->model_version, 0);  // the version the cohort scored
  auto rounds = store_->Rounds(task_id_);
  ASSERT_TRUE(rounds.ok());
  EXPECT_EQ(rounds->at(0).status, RoundStatus::kCommitted);
  EXPECT_EQ(rounds->at(0).cohort_size, 5);
  EXPECT_EQ(rounds->at(0).population, 1000);
  EXPECT_EQ(rounds->at(0).metrics, RoundMetricsJson(*committed));
  auto checkpoint = store_->LoadCheckpoint(task_id_, 1);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->model, model_->parameters());
}

TEST_F(CommitterTest, ARefusedUpdateChangesNeitherTheModelNorTheStore) {
  RoundAggregate aggregate;
  aggregate.mean_update = {0.5f};  // wrong size
  RoundSummary summary;
  summary.cohort_size = 3;
  auto refused = committer_->Commit(*model_, round_, aggregate, summary);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("server optimizer refused"), std::string::npos);
  EXPECT_EQ(model_->version(), 0);
  EXPECT_EQ(model_->parameters(), std::vector<float>(4, 0.f));
  auto rounds = store_->Rounds(task_id_);
  ASSERT_TRUE(rounds.ok());
  EXPECT_EQ(rounds->at(0).status, RoundStatus::kInFlight);
  ASSERT_TRUE(committer_->Abandon(round_, "too few survivors").ok());
  rounds = store_->Rounds(task_id_);
  EXPECT_EQ(rounds->at(0).status, RoundStatus::kAbandoned);
  EXPECT_EQ(rounds->at(0).note, "too few survivors");
  EXPECT_FALSE(rounds->at(0).cohort_size.has_value());
  EXPECT_FALSE(committer_->Abandon(round_, "again").ok());  // only an in-flight round
}

}  // namespace
}  // namespace tacit::coordinator
