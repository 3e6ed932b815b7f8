// The client's assignment path refuses a task that breaks the task file's
// rules before it downloads, trains or sends anything: a broken or lying
// coordinator cannot make a laptop train with a negative cohort or a NaN clip.

#include <grpcpp/grpcpp.h>

#include <limits>

#include "client/runtime/round_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "task/task_proto.h"

namespace tacit::runtime {
namespace {

using ::testing::HasSubstr;

v1::Assignment ValidAssignment() {
  absl::StatusOr<TaskConfig> task =
      ParseTaskConfig({{"name", "next-event"},
                       {"model", {{"name", "gru"}, {"hyperparameters", {{"hidden_dim", 16}}}}},
                       {"vocab", {{"size", 4096}, {"salt", "fleet-salt"}}},
                       {"cohort", {{"size", 10}}}});
  EXPECT_TRUE(task.ok()) << task.status();
  v1::Assignment a;
  a.set_session("seat");
  a.set_round_id(7);
  a.set_round_number(3);
  a.set_model_version(2);
  a.set_train_seconds(60);
  *a.mutable_task() = TaskToProto(*task);
  return a;
}

TEST(AssignedTask, AValidTaskIsTheCoordinatorsTask) {
  absl::StatusOr<TaskConfig> task = AssignedTask(ValidAssignment());
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->cohort.size, 10);
  EXPECT_EQ(task->vocab.salt, "fleet-salt");
  EXPECT_EQ(task->model.hyperparameters["hidden_dim"], 16);
}

TEST(AssignedTask, RunAssignedRoundRefusesAnInvalidTaskBeforeAnyCall) {
  // Nothing listens here: any RPC would fail with Unavailable, not with the
  // task's error, so the error below shows the round stopped before calling.
  auto stub = v1::Federation::NewStub(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
  RoundRunnerOptions options;
  options.dir = "/nonexistent/tacit-client";

  struct Case {
    const char* key;
    void (*lie)(v1::Task&);
  };
  const Case cases[] = {
      {"cohort.size", [](v1::Task& t) { t.mutable_cohort()->set_size(-5); }},
      {"dp.clip_norm",
       [](v1::Task& t) {
         t.mutable_dp()->set_clip_norm(std::numeric_limits<double>::quiet_NaN());
       }},
      {"secure_agg.clip_range", [](v1::Task& t) { t.mutable_secure_agg()->set_clip_range(0); }},
      {"training.epochs", [](v1::Task& t) { t.mutable_training()->set_epochs(100000); }},
      {"model.hyperparameters",
       [](v1::Task& t) { t.mutable_model()->set_hyperparameters_json("{"); }},
      {"vocab", [](v1::Task& t) { t.clear_vocab(); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    v1::Assignment assignment = ValidAssignment();
    c.lie(*assignment.mutable_task());
    absl::StatusOr<AuditEntry> audit = RunAssignedRound(*stub, assignment, options);
    ASSERT_FALSE(audit.ok());
    EXPECT_EQ(audit.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(audit.status().message(), HasSubstr(std::string("'") + c.key + "'"));
    EXPECT_THAT(audit.status().message(), HasSubstr("refusing round 3"));
  }
}

TEST(AssignedTask, AnAssignmentWithoutATaskIsRefused) {
  v1::Assignment assignment = ValidAssignment();
  assignment.clear_task();
  absl::StatusOr<TaskConfig> task = AssignedTask(assignment);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("section 'model' is missing"));
}

// Weighting by examples with DP noise on would scale a client's update past
// the clip norm the noise is calibrated to: the client refuses such a task.
TEST(AssignedTask, WeightingByExamplesWithDpNoiseIsRefused) {
  v1::Assignment assignment = ValidAssignment();
  assignment.mutable_task()->mutable_aggregation()->set_weighting("examples");
  assignment.mutable_task()->mutable_aggregation()->set_max_weight(50);
  absl::StatusOr<TaskConfig> task = AssignedTask(assignment);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->aggregation.max_weight, 50);
  assignment.mutable_task()->mutable_dp()->set_noise_multiplier(1.0);
  task = AssignedTask(assignment);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(task.status().message(), HasSubstr("'aggregation.weighting'"));
  EXPECT_THAT(task.status().message(), HasSubstr("nothing was trained or sent"));
}

}  // namespace
}  // namespace tacit::runtime
