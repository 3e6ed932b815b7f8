// The owner's participation policy against a lying coordinator: a task or a
// round below the owner's cohort and threshold floors is refused before any
// key is sent, a lowered DP noise share is refused before anything is
// downloaded, and the policy file keeps its defaults and rejects typos.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include "client/runtime/participation_policy.h"
#include "client/runtime/round_runner.h"
#include "common/dp_noise.h"
#include "gmock/gmock.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "secure_agg/identity.h"
#include "task/ring_bits.h"
#include "task/task_model.h"
#include "task/task_proto.h"
#include "tests/client/temp_dir.h"

namespace tacit::runtime {
namespace {

using tacit::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TaskConfig Task(int cohort, double noise_multiplier, double clip_norm) {
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(
      {{"name", "policy"},
       {"model",
        {{"name", "gru"},
         {"hyperparameters", {{"embedding_dim", 8}, {"hidden_dim", 8}, {"window", 8}}}}},
       {"vocab", {{"size", 64}, {"salt", "policy-salt"}}},
       {"cohort", {{"size", cohort}}},
       {"training", {{"epochs", 1}, {"batch_size", 8}, {"max_seconds", 2}}},
       // The continuous shares are the ones a coordinator assigns and the
       // laptop checks (the discrete Gaussian's the laptop plans itself).
       {"dp",
        {{"noise_multiplier", noise_multiplier},
         {"clip_norm", clip_norm},
         {"mechanism", "continuous_gaussian"}}}});
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

v1::Assignment AssignmentOf(const TaskConfig& task, double noise_stddev) {
  v1::Assignment a;
  a.set_session("seat");
  a.set_round_id(7);
  a.set_round_number(3);
  a.set_client_id(1);
  a.set_model_version(2);
  a.set_train_seconds(30);
  a.set_noise_stddev(noise_stddev);
  *a.mutable_task() = TaskToProto(task);
  return a;
}

// What the coordinator assigns: round_plan.cc's formula.
double CoordinatorsShare(const TaskConfig& task) {
  if (task.dp.noise_multiplier == 0) return 0;
  return *PerClientNoiseStddev(task.dp.noise_multiplier, task.dp.clip_norm,
                               std::max(task.cohort.min_survivors, 2));
}

// Nothing listens here: any call ends the round as "left: ...", so an
// outcome "refused: ..." shows the round stopped before calling.
std::unique_ptr<v1::Federation::Stub> Nowhere() {
  return v1::Federation::NewStub(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
}

TEST(ParticipationPolicy, ACohortBelowTheFloorIsRefusedBeforeAnyCall) {
  std::mt19937 rng(20261130);
  auto stub = Nowhere();
  for (int i = 0; i < 20; ++i) {
    ParticipationPolicy policy;
    policy.min_cohort_size = std::uniform_int_distribution<int>(3, 40)(rng);
    policy.min_survivors = 2;  // the floor under test is the cohort's
    const int cohort = std::uniform_int_distribution<int>(2, policy.min_cohort_size - 1)(rng);
    RoundRunnerOptions options;
    options.dir = "/nonexistent/tacit-client";
    options.policy = policy;
    absl::StatusOr<AuditEntry> audit =
        RunAssignedRound(*stub, AssignmentOf(Task(cohort, 0, 1), 0), options);
    ASSERT_TRUE(audit.ok()) << audit.status();
    EXPECT_THAT(audit->outcome, StartsWith("refused: the task's cohort.size"));
    EXPECT_EQ(audit->rpc.calls(), 0);
    // At the floor the round goes on (and meets the missing server).
    audit = RunAssignedRound(*stub, AssignmentOf(Task(policy.min_cohort_size, 0, 1), 0), options);
    ASSERT_TRUE(audit.ok()) << audit.status();
    EXPECT_THAT(audit->outcome, StartsWith("left: model download failed"));
  }
}

TEST(ParticipationPolicy, LessNoiseThanTheLaptopsOwnShareIsRefused) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  auto stub = Nowhere();
  for (int i = 0; i < 30; ++i) {
    ParticipationPolicy policy;
    const TaskConfig task = Task(std::uniform_int_distribution<int>(4, 200)(rng),
                                 0.05 + 3 * unit(rng), 0.1 + 5 * unit(rng));
    RoundRunnerOptions options;
    options.dir = "/nonexistent/tacit-client";
    options.policy = policy;
    const double honest = CoordinatorsShare(task);
    for (double assigned : {0.0, honest * unit(rng) * 0.999}) {
      absl::StatusOr<AuditEntry> audit =
          RunAssignedRound(*stub, AssignmentOf(task, assigned), options);
      ASSERT_TRUE(audit.ok()) << audit.status();
      EXPECT_THAT(audit->outcome, StartsWith("refused: the coordinator assigned a DP noise share"));
      EXPECT_EQ(audit->rpc.calls(), 0);
    }
    absl::StatusOr<AuditEntry> audit = RunAssignedRound(*stub, AssignmentOf(task, honest), options);
    ASSERT_TRUE(audit.ok()) << audit.status();
    EXPECT_THAT(audit->outcome, StartsWith("left: model download failed"));
    // A task promising fewer survivors than the owner's floor is refused
    // whatever its noise: the share would be computed for too few.
    options.policy.min_survivors = task.cohort.min_survivors + 1;
    audit = RunAssignedRound(*stub, AssignmentOf(task, honest * 2), options);
    ASSERT_TRUE(audit.ok()) << audit.status();
    EXPECT_THAT(audit->outcome, StartsWith("refused: the task's cohort.min_survivors"));
    EXPECT_EQ(audit->rpc.calls(), 0);
  }
}

// A coordinator that starts every round with the given secure aggregation
// parameters, counts what the client submits, then ends the round.
class StartingCoordinator final : public v1::Federation::Service {
 public:
  StartingCoordinator(uint32_t cohort_size, uint32_t threshold)
      : cohort_size_(cohort_size), threshold_(threshold) {}
  grpc::Status NextMessage(grpc::ServerContext*, const v1::NextMessageRequest* request,
                           v1::NextMessageResponse* response) override {
    if (request->step() != 0) {
      response->set_round_over("the test ends the round");
      return grpc::Status::OK;
    }
    response->mutable_message()->set_round_id(7);
    v1::SecAggRoundParameters* p =
        response->mutable_message()->mutable_round_start()->mutable_parameters();
    p->set_round_id(7);
    p->set_bits(bits);
    p->set_clip_bound(1);
    p->set_scale(1000);
    p->set_max_weight(1);
    p->set_vector_length(1);  // advertise_keys does not look at the update
    p->set_cohort_size(cohort_size_);
    p->set_threshold(threshold_);
    return grpc::Status::OK;
  }
  grpc::Status Submit(grpc::ServerContext*, const v1::SubmitRequest*,
                      v1::SubmitResponse*) override {
    ++submits;
    return grpc::Status::OK;
  }
  std::atomic<int> submits{0};
  // The ring it announces; RunAgainst sets the task's planned ring plus
  // `ring_offset` before serving.
  uint32_t bits = 32;
  int ring_offset = 0;

 private:
  uint32_t cohort_size_, threshold_;
};

// The client trains, receives the round start, and must refuse it before
// it advertises a key when the cohort or threshold is below its floor.
AuditEntry RunAgainst(StartingCoordinator& coordinator, const ParticipationPolicy& policy) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&coordinator);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = v1::Federation::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  TempDir dir;
  const TaskConfig task = Task(policy.min_cohort_size, 0, 1);
  ModelConfig config = *ResolveTaskModel(task);
  ModelFile model{2, config, LayoutOf(config)->hash, *InitialParameters(config, 1)};
  std::filesystem::create_directories(dir.File("model"));
  absl::Status saved = SaveModelFile(dir.File("model/global.model"), model);
  EXPECT_TRUE(saved.ok()) << saved;
  v1::Assignment assignment = AssignmentOf(task, 0);
  assignment.set_layout_hash(model.layout_hash);
  absl::StatusOr<int> ring = RingBitsOfTask(task, LayoutOf(config)->total_size);
  EXPECT_TRUE(ring.ok()) << ring.status();
  coordinator.bits = static_cast<uint32_t>(ring.value_or(32) + coordinator.ring_offset);
  PersonTokens tokens{"owner", {}, {}};
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) tokens.train.push_back(1 + static_cast<int32_t>(rng() % 63));
  for (int i = 0; i < 40; ++i) tokens.test.push_back(1 + static_cast<int32_t>(rng() % 63));
  RoundRunnerOptions options;
  options.dir = dir.path();
  options.device_id = "owner";
  options.tokens = &tokens;
  options.max_train_seconds = 1;
  options.policy = policy;
  // A simulated identity: this folder holds no fleet enrollment.
  auto signer = secagg::Ed25519Signer::Generate();
  EXPECT_TRUE(signer.ok()) << signer.status();
  if (signer.ok()) options.signer = *std::move(signer);
  options.verifier = std::make_shared<secagg::KnownKeysVerifier>();
  absl::StatusOr<AuditEntry> audit = RunAssignedRound(*stub, assignment, options);
  EXPECT_TRUE(audit.ok()) << audit.status();
  server->Shutdown();
  return audit.ok() ? *audit : AuditEntry{};
}

TEST(ParticipationPolicy, ARoundStartBelowTheFloorIsRefusedBeforeAnyKeyIsSent) {
  ParticipationPolicy policy;
  policy.min_cohort_size = 5;
  policy.min_secagg_threshold = 4;
  struct Case {
    uint32_t cohort, threshold;
    const char* refusal;  // null: allowed
    int ring_offset = 0;  // bits announced beyond the task's planned ring
  };
  // A ring other than the one the laptop planned from the task (narrower:
  // the sum wraps; wider: wasted upload), or a cohort above the task's, is
  // refused like a floor (task/ring_bits.h CheckRoundRing).
  for (const Case& c :
       {Case{4, 4, "cohort is 4"}, Case{5, 3, "threshold is 3"}, Case{0, 0, "cohort is 0"},
        Case{5, 4, "a narrower ring", -1}, Case{5, 4, "a wider ring", 8}, Case{8, 4, "8 clients"},
        Case{5, 4, nullptr}}) {
    SCOPED_TRACE(::testing::Message() << c.cohort << " " << c.ring_offset);
    StartingCoordinator coordinator(c.cohort, c.threshold);
    coordinator.ring_offset = c.ring_offset;
    AuditEntry audit = RunAgainst(coordinator, policy);
    if (c.refusal != nullptr) {
      EXPECT_THAT(audit.outcome, StartsWith("refused: "));
      EXPECT_THAT(audit.outcome, HasSubstr(c.refusal));
      EXPECT_EQ(coordinator.submits.load(), 0);
      EXPECT_TRUE(audit.sent.empty());
      EXPECT_EQ(audit.rpc.by_rpc.count(kRpcSubmit), 0u);
    } else {
      // The control: at the floor the client advertises its keys.
      EXPECT_EQ(coordinator.submits.load(), 1);
      ASSERT_EQ(audit.sent.size(), 1u);
      EXPECT_EQ(audit.sent[0].message, "advertise_keys");
    }
    EXPECT_EQ(audit.rpc.by_rpc.at(kRpcNextMessage).calls, c.refusal != nullptr ? 1 : 2);
  }
}

TEST(ParticipationPolicy, TheFileKeepsDefaultsAndTheOwnersEditsAndRejectsTypos) {
  TempDir dir;
  absl::StatusOr<ParticipationPolicy> loaded = LoadParticipationPolicy(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->min_cohort_size, ParticipationPolicy{}.min_cohort_size);
  EXPECT_FALSE(std::filesystem::exists(dir.File(kParticipationPolicyFile)));
  ASSERT_TRUE(WriteDefaultParticipationPolicy(dir.path()).ok());
  ASSERT_TRUE(LoadParticipationPolicy(dir.path()).ok());
  std::ofstream(dir.File(kParticipationPolicyFile)) << R"({"max_rounds_per_day": 5})";
  ASSERT_TRUE(WriteDefaultParticipationPolicy(dir.path()).ok());  // keeps the owner's file
  loaded = LoadParticipationPolicy(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->max_rounds_per_day, 5);
  EXPECT_EQ(loaded->min_secagg_threshold, ParticipationPolicy{}.min_secagg_threshold);
  EXPECT_THAT(ParseParticipationPolicyJson(R"({"min_cohort":3})").status().message(),
              HasSubstr("unknown key 'min_cohort'"));
  EXPECT_FALSE(ParseParticipationPolicyJson(R"({"min_secagg_threshold":1})").ok());
  EXPECT_FALSE(ParseParticipationPolicyJson(R"({"min_cohort_size":"9"})").ok());
}

}  // namespace
}  // namespace tacit::runtime
