// The round orchestrator without the network: in-process secure aggregation
// clients talk to it exactly as the gRPC service would, with random cohorts,
// random dropouts per phase and restarts.

#include "coordinator/service/round_orchestrator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "coordinator/service/check_in_limiter.h"
#include "coordinator/service/offline_status.h"
#include "coordinator/service/task_change.h"
#include "coordinator/status_text.h"
#include "coordinator/structured_log.h"
#include "secure_agg/client.h"
#include "secure_agg/phase.h"
#include "spdlog/sinks/null_sink.h"
#include "spdlog/sinks/ostream_sink.h"
#include "task/federated_evaluation.h"
#include "tests/support/test_seed.h"

namespace tacit::coordinator {
namespace {

TaskConfig TinyTask(int cohort, int min_survivors, int rounds) {
  nlohmann::json json = {
      {"name", "orchestrator-test"},
      {"model",
       {{"name", "gru"},
        {"hyperparameters", {{"embedding_dim", 4}, {"hidden_dim", 4}, {"window", 4}}}}},
      {"vocab", {{"size", 16}, {"salt", "s"}}},
      {"rounds", rounds},
      {"cohort", {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", min_survivors}}},
      {"deadlines", {{"check_in", 1}}},
      {"secure_agg", {{"clip_range", 0.5}}}};
  auto task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

std::string FreshDir(const std::string& name) {
  std::string dir =
      ::testing::TempDir() + "/orchestrator_" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<RoundOrchestrator> Open(const TaskConfig& task, const std::string& dir,
                                        MetricsRegistry* registry) {
  auto store = StateStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  auto logger = MakeJsonLogger("test", {std::make_shared<spdlog::sinks::null_sink_mt>()});
  auto orchestrator =
      RoundOrchestrator::Create(task, *std::move(store), {}, registry, logger, SteadyClock::now());
  EXPECT_TRUE(orchestrator.ok()) << orchestrator.status();
  return orchestrator.ok() ? *std::move(orchestrator) : nullptr;
}

struct FakeDevice {
  std::string id;
  v1::Assignment assignment;
  std::unique_ptr<secagg::SecAggClient> client;
  std::vector<float> input;
  int vanish_in_step = -1;  // stops answering when this step's message arrives
  bool included = false;    // its input is in the committed sum
  EvaluationCounts counts;  // its held-out counts, appended after the delta
};

v1::CheckInRequest EligibleCheckIn() {
  v1::CheckInRequest request;
  request.set_model_version(-1);
  return request;
}

// Runs one round attempt to its end with `devices`; returns the result.
v1::RoundResultResponse RunAttempt(RoundOrchestrator& orchestrator,
                                   std::vector<FakeDevice>& devices, std::mt19937_64& rng) {
  auto now = SteadyClock::now();
  for (FakeDevice& d : devices) {
    v1::CheckInResponse response = orchestrator.CheckIn(d.id, EligibleCheckIn(), now);
    EXPECT_TRUE(response.has_assignment()) << response.DebugString();
    d.assignment = response.assignment();
  }
  std::uniform_real_distribution<float> value(-0.1f, 0.1f);
  for (FakeDevice& d : devices) {
    d.input.clear();
    secagg::ClientConfig config;
    config.client_id = d.assignment.client_id();
    // The length arrives with the round start; the input is drawn then.
    d.client = *secagg::SecAggClient::CreateWithProvider(
        config, [&d]() -> absl::StatusOr<std::vector<float>> { return d.input; }, 1.0);
  }
  for (uint32_t step = 0; step < static_cast<uint32_t>(secagg::kPhaseCount); ++step) {
    for (FakeDevice& d : devices) {
      if (!d.client) continue;
      v1::NextMessageRequest next;
      next.set_session(d.assignment.session());
      next.set_round_id(d.assignment.round_id());
      next.set_step(step);
      auto answer = orchestrator.TryNextMessage(d.id, next, SteadyClock::now());
      EXPECT_TRUE(answer.ok()) << answer.status();
      if (!answer.ok() || !answer->has_value() || !(*answer)->has_message()) {
        d.client.reset();
        continue;
      }
      if (static_cast<int>(step) == d.vanish_in_step) {
        d.client.reset();
        continue;
      }
      if (step == 0) {
        // The model delta, then the evaluation counts (TinyTask evaluates).
        uint64_t length = (*answer)->message().round_start().parameters().vector_length();
        d.input.resize(length - kEvaluationCoordinates);
        for (float& x : d.input) x = value(rng);
        d.counts.clients = 1;
        d.counts.predictions = std::uniform_int_distribution<int64_t>(1, 2048)(rng);
        d.counts.top3_correct = d.counts.predictions / 2;
        d.counts.top1_correct = d.counts.predictions / 3;
        d.counts.loss_sum = 2.5 * static_cast<double>(d.counts.predictions);
        auto encoded = EncodeEvaluation(EvaluationEncoding{2048, 0.5, 1.0}, d.counts, 1.0);
        EXPECT_TRUE(encoded.ok()) << encoded.status();
        if (encoded.ok()) d.input.insert(d.input.end(), encoded->begin(), encoded->end());
      }
      auto reply = d.client->HandleServerMessage((*answer)->message());
      if (!reply.ok()) {  // a client refusing the round just leaves it
        d.client.reset();
        continue;
      }
      v1::SubmitRequest submit;
      submit.set_session(d.assignment.session());
      submit.set_round_id(d.assignment.round_id());
      *submit.mutable_message() = *reply;
      absl::Status submitted = orchestrator.Submit(d.id, submit, SteadyClock::now());
      // A phase may have ended with this very submission; later ones fail
      // only when the round is over.
      if (!submitted.ok()) d.client.reset();
    }
    // Silent devices: the phase ends at its deadline (a deadline set by a
    // Tick lies after that Tick's time, so the clock keeps moving forward).
    if (orchestrator.StatusJson()["phase"] == secagg::PhaseName(static_cast<int>(step))) {
      orchestrator.Tick(SteadyClock::now() + std::chrono::hours(1 + step));
    }
  }
  v1::RoundResultRequest result;
  result.set_session(devices[0].assignment.session());
  result.set_round_id(devices[0].assignment.round_id());
  auto answer = orchestrator.TryRoundResult(devices[0].id, result, SteadyClock::now());
  EXPECT_TRUE(answer.ok() && answer->has_value());
  for (FakeDevice& d : devices) {
    v1::RoundResultRequest mine;
    mine.set_session(d.assignment.session());
    mine.set_round_id(d.assignment.round_id());
    auto own = orchestrator.TryRoundResult(d.id, mine, SteadyClock::now());
    d.included = own.ok() && own->has_value() && (*own)->included();
  }
  return answer.ok() && answer->has_value() ? **answer : v1::RoundResultResponse();
}

TEST(RoundOrchestrator, CommitsTheMeanOfSurvivorsOrAbandonsWithoutTouchingTheModel) {
  std::mt19937_64 rng(20261125);
  int committed = 0, abandoned = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const int cohort = std::uniform_int_distribution<int>(3, 7)(rng);
    const int min_survivors = std::max(2, cohort - 2);
    TaskConfig task = TinyTask(cohort, min_survivors, 1);
    MetricsRegistry registry;
    std::string dir = FreshDir("mean" + std::to_string(trial));
    auto orchestrator = Open(task, dir, &registry);
    ASSERT_NE(orchestrator, nullptr);
    std::vector<FakeDevice> devices(cohort);
    for (int i = 0; i < cohort; ++i) {
      devices[i].id = "dev" + std::to_string(i);
      if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.25) {
        devices[i].vanish_in_step = std::uniform_int_distribution<int>(0, 3)(rng);
      }
    }
    nlohmann::json before = orchestrator->StatusJson();
    v1::RoundResultResponse result = RunAttempt(*orchestrator, devices, rng);
    ASSERT_NE(result.outcome(), v1::RoundResultResponse::PENDING)
        << "cohort " << cohort << ": " << orchestrator->StatusJson().dump();
    if (result.outcome() == v1::RoundResultResponse::COMMITTED) {
      ++committed;
      EXPECT_EQ(orchestrator->model_version(), 1);
      EXPECT_GE(result.survivors(), min_survivors);
      EXPECT_TRUE(orchestrator->done());
      // The cohort's held-out counts: exactly the survivors' sums.
      nlohmann::json evaluation = orchestrator->StatusJson()["last_evaluation"];
      int64_t predictions = 0, clients = 0;
      for (const FakeDevice& d : devices) {
        predictions += d.included ? d.counts.predictions : 0;
        clients += d.included;
      }
      EXPECT_EQ(evaluation.value("predictions", int64_t{-1}), predictions) << evaluation.dump();
      EXPECT_EQ(evaluation.value("clients", int64_t{-1}), clients);
      EXPECT_EQ(evaluation.value("model_version", -1), 0);
      // The loss coordinate's unit is kMaxMeanLoss counts, so its sum is off by
      // at most kMaxMeanLoss x the count bound (the planned ring fixes the scale).
      const double count_bound = evaluation.value("count_error_bound", -1.0);
      ASSERT_GT(count_bound, 0.0) << evaluation.dump();
      ASSERT_LT(count_bound, 0.5) << "counts would not be exact: " << evaluation.dump();
      EXPECT_NEAR(evaluation.value("loss", 0.0), 2.5,
                  kMaxMeanLoss * count_bound / static_cast<double>(predictions))
          << evaluation.dump();
      EXPECT_NE(registry.Render().find("tacit_eval_accuracy{k=\"1\"}"), std::string::npos);
      orchestrator.reset();
      // FedAvg with server lr 1: version 1 = version 0 + the survivors' mean.
      auto store = StateStore::Open(dir);
      ASSERT_TRUE(store.ok());
      auto v0 = (*store)->LoadCheckpoint(1, 0);
      auto v1 = (*store)->LoadCheckpoint(1, 1);
      ASSERT_TRUE(v0.ok() && v1.ok());
      // Stored with the model version it came with.
      auto versions = (*store)->ModelVersions(1);
      ASSERT_TRUE(versions.ok() && versions->size() == 2);
      EXPECT_EQ(versions->back().metrics["evaluation"], evaluation);
      int included = 0;
      for (const FakeDevice& d : devices) included += d.included;
      ASSERT_EQ(included, result.survivors());
      for (size_t k = 0; k < v0->model.size(); ++k) {
        double mean = 0;
        for (const FakeDevice& d : devices) mean += d.included ? d.input[k] / included : 0;
        ASSERT_NEAR(v1->model[k] - v0->model[k], mean, 1e-3) << "coordinate " << k;
      }
    } else {
      ++abandoned;
      EXPECT_EQ(orchestrator->model_version(), 0) << result.reason();
      EXPECT_EQ(orchestrator->StatusJson()["round"], before["round"]);  // retried
      EXPECT_GT(orchestrator->StatusJson()["attempt"].get<int>(), 1);
    }
    orchestrator.reset();
    std::filesystem::remove_all(dir);
  }
  // The seed exercises both outcomes.
  EXPECT_GT(committed, 0);
  EXPECT_GT(abandoned, 0);
}

// tacit-sim's clock: ExpireDeadline ends selection or a phase exactly as its
// deadline would, without waiting for it.
TEST(RoundOrchestrator, ExpireDeadlineEndsSelectionAndPhasesAtOnce) {
  TaskConfig task = TinyTask(4, 2, 1);
  MetricsRegistry registry;
  std::string dir = FreshDir("expire");
  auto orchestrator = Open(task, dir, &registry);
  ASSERT_NE(orchestrator, nullptr);
  const auto now = SteadyClock::now();
  orchestrator->ExpireDeadline(now);  // nobody seated: nothing to close
  EXPECT_EQ(orchestrator->StatusJson()["phase"], "selecting");
  const std::vector<float> initial = orchestrator->global_parameters();
  EXPECT_FALSE(initial.empty());
  for (int i = 0; i < 3; ++i) {  // three of four seats
    ASSERT_TRUE(
        orchestrator->CheckIn("dev" + std::to_string(i), EligibleCheckIn(), now).has_assignment());
  }
  EXPECT_EQ(orchestrator->StatusJson()["phase"], "selecting");
  orchestrator->ExpireDeadline(now);
  nlohmann::json status = orchestrator->StatusJson();
  EXPECT_EQ(status["phase"], secagg::PhaseName(0));
  EXPECT_EQ(status["participants"], 3);
  const nlohmann::json round_id = status["round_id"];
  // Nobody advertises keys: all three are dropped and the attempt abandoned.
  orchestrator->ExpireDeadline(now);
  status = orchestrator->StatusJson();
  EXPECT_NE(status["round_id"], round_id);
  EXPECT_EQ(status["phase"], "selecting");
  EXPECT_EQ(status["last_round"]["outcome"], "abandoned");
  EXPECT_EQ(status["last_round"]["dropouts_per_phase"][0], 3);
  EXPECT_EQ(orchestrator->global_parameters(), initial);
  orchestrator.reset();
  std::filesystem::remove_all(dir);
}

// A state folder written before a config section existed (here: the task
// stored without "evaluation") still resumes the same task, and a real change
// of the task is still refused.
TEST(RoundOrchestrator, ResumesATaskStoredBeforeNewConfigSectionsExisted) {
  TaskConfig task = TinyTask(3, 3, 2);
  std::string dir = FreshDir("older-config");
  int64_t task_id = 0;
  {
    auto store = StateStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    nlohmann::json older = TaskConfigToJson(task);
    ASSERT_EQ(older.erase("evaluation"), 1u);
    auto id = (*store)->UpsertTask(task.name, older);
    ASSERT_TRUE(id.ok()) << id.status();
    task_id = *id;
  }
  {
    MetricsRegistry registry;
    auto orchestrator = Open(task, dir, &registry);
    ASSERT_NE(orchestrator, nullptr);
  }
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->UpsertTask(task.name, TaskConfigToJson(task)), task_id);
  store->reset();

  TaskConfig changed = task;
  changed.vocab.salt += "-other";
  auto logger = MakeJsonLogger("test", {std::make_shared<spdlog::sinks::null_sink_mt>()});
  MetricsRegistry registry;
  auto reopened = StateStore::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto refused = RoundOrchestrator::Create(changed, *std::move(reopened), {}, &registry, logger,
                                           SteadyClock::now());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(dir);
}

// Opens `task` on `dir` with its log lines in `*log`; the refusal when any.
absl::StatusOr<std::unique_ptr<RoundOrchestrator>> OpenLogged(const TaskConfig& task,
                                                              const std::string& dir,
                                                              MetricsRegistry* registry,
                                                              std::ostringstream* log) {
  auto store = StateStore::Open(dir);
  if (!store.ok()) return store.status();
  auto logger = MakeJsonLogger("test", {std::make_shared<spdlog::sinks::ostream_sink_mt>(*log)});
  return RoundOrchestrator::Create(task, *std::move(store), {}, registry, logger,
                                   SteadyClock::now());
}

// Issue 19: a new task logged `task_resumed`, a task change was refused
// without naming the key, and a finished task could not be extended.
TEST(RoundOrchestrator, ExtendsAFinishedTaskByRaisingRoundsAndNamesAnyOtherChangedKey) {
  TaskConfig task = TinyTask(3, 3, 1);
  std::string dir = FreshDir("extend");
  std::mt19937_64 rng(19);
  std::vector<FakeDevice> devices(3);
  for (int i = 0; i < 3; ++i) devices[i].id = "dev" + std::to_string(i);
  {
    MetricsRegistry registry;
    std::ostringstream log;
    auto orchestrator = OpenLogged(task, dir, &registry, &log);
    ASSERT_TRUE(orchestrator.ok()) << orchestrator.status();
    EXPECT_NE(log.str().find("\"task_started\""), std::string::npos) << log.str();
    EXPECT_NE(registry.Render().find("tacit_dp_epsilon{accountant=\"rdp\",sampling=\"none\"} 0"),
              std::string::npos)
        << registry.Render();
    EXPECT_EQ(log.str().find("task_resumed"), std::string::npos) << log.str();
    EXPECT_EQ(RunAttempt(**orchestrator, devices, rng).outcome(),
              v1::RoundResultResponse::COMMITTED);
    EXPECT_TRUE((*orchestrator)->done());
  }
  {
    MetricsRegistry registry;
    std::ostringstream log;
    auto orchestrator = OpenLogged(task, dir, &registry, &log);
    ASSERT_TRUE(orchestrator.ok()) << orchestrator.status();
    EXPECT_NE(log.str().find("\"task_resumed\""), std::string::npos) << log.str();
    EXPECT_TRUE((*orchestrator)->done());
  }
  {
    TaskConfig salted = task;
    salted.vocab.salt += "-other";
    MetricsRegistry registry;
    std::ostringstream log;
    auto refused = OpenLogged(salted, dir, &registry, &log);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("vocab.salt"), std::string::npos) << refused.status();
  }
  TaskConfig extended = task;
  extended.rounds = 2;
  MetricsRegistry registry;
  std::ostringstream log;
  auto orchestrator = OpenLogged(extended, dir, &registry, &log);
  ASSERT_TRUE(orchestrator.ok()) << orchestrator.status();
  EXPECT_FALSE((*orchestrator)->done());
  EXPECT_EQ((*orchestrator)->StatusJson()["round"], 2);  // from the last committed round
  EXPECT_EQ(RunAttempt(**orchestrator, devices, rng).outcome(), v1::RoundResultResponse::COMMITTED);
  EXPECT_EQ((*orchestrator)->model_version(), 2);
  EXPECT_TRUE((*orchestrator)->done());
  orchestrator->reset();
  std::filesystem::remove_all(dir);
}

TEST(RoundOrchestrator, ResumesCommittedRoundsAfterRestart) {
  TaskConfig task = TinyTask(3, 3, 2);
  task.server_optimizer.lr_half_life_rounds = 1;  // the decay must survive the restart
  std::string dir = FreshDir("resume");
  std::mt19937_64 rng(7);
  std::vector<FakeDevice> devices(3);
  for (int i = 0; i < 3; ++i) devices[i].id = "dev" + std::to_string(i);
  {
    MetricsRegistry registry;
    auto orchestrator = Open(task, dir, &registry);
    ASSERT_NE(orchestrator, nullptr);
    v1::RoundResultResponse first = RunAttempt(*orchestrator, devices, rng);
    EXPECT_EQ(first.outcome(), v1::RoundResultResponse::COMMITTED) << first.reason();
    EXPECT_EQ(orchestrator->model_version(), 1);
    // Round 2 is selecting when the coordinator goes away.
    orchestrator->CheckIn("dev0", EligibleCheckIn(), SteadyClock::now());
  }
  MetricsRegistry registry;
  auto orchestrator = Open(task, dir, &registry);
  ASSERT_NE(orchestrator, nullptr);
  EXPECT_EQ(orchestrator->model_version(), 1);
  EXPECT_EQ(orchestrator->StatusJson()["round"], 2);
  EXPECT_DOUBLE_EQ(orchestrator->StatusJson()["server_lr"].get<double>(), 0.5);  // 1.0 * 2^-1
  // The last accuracy survives the restart (read back from the state store).
  int64_t predictions = 0;
  for (const FakeDevice& d : devices) predictions += d.included ? d.counts.predictions : 0;
  EXPECT_EQ(orchestrator->StatusJson()["last_evaluation"].value("predictions", int64_t{-1}),
            predictions);
  EXPECT_NE(registry.Render().find("tacit_eval_predictions " + std::to_string(predictions)),
            std::string::npos)
      << registry.Render();
  // A session from before the restart is unknown: the client must rejoin.
  v1::NextMessageRequest stale;
  stale.set_session(devices[0].assignment.session());
  stale.set_round_id(devices[0].assignment.round_id());
  EXPECT_EQ(orchestrator->TryNextMessage("dev0", stale, SteadyClock::now()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RunAttempt(*orchestrator, devices, rng).outcome(), v1::RoundResultResponse::COMMITTED);
  EXPECT_EQ(orchestrator->model_version(), 2);
  EXPECT_TRUE(orchestrator->done());
  v1::CheckInResponse after = orchestrator->CheckIn("dev1", EligibleCheckIn(), SteadyClock::now());
  EXPECT_TRUE(after.retry_after().task_complete());
  orchestrator.reset();
  std::filesystem::remove_all(dir);
}

TEST(RoundOrchestrator, RejectsForeignSessionsDevicesAndReplays) {
  TaskConfig task = TinyTask(3, 3, 1);
  std::string dir = FreshDir("reject");
  MetricsRegistry registry;
  auto orchestrator = Open(task, dir, &registry);
  ASSERT_NE(orchestrator, nullptr);
  auto now = SteadyClock::now();
  v1::Assignment a = orchestrator->CheckIn("a", EligibleCheckIn(), now).assignment();
  // Checking in again while selecting returns the same seat.
  EXPECT_EQ(orchestrator->CheckIn("a", EligibleCheckIn(), now).assignment().session(), a.session());
  v1::Assignment b = orchestrator->CheckIn("b", EligibleCheckIn(), now).assignment();
  orchestrator->CheckIn("b2", EligibleCheckIn(), now);  // cohort full: round starts
  EXPECT_NE(orchestrator->CheckIn("c", EligibleCheckIn(), now).retry_after().reason(), "");

  v1::NextMessageRequest next;
  next.set_session(a.session());
  next.set_round_id(a.round_id());
  next.set_step(0);
  auto start = orchestrator->TryNextMessage("a", next, SteadyClock::now());
  ASSERT_TRUE(start.ok() && start->has_value() && (*start)->has_message());
  EXPECT_EQ(orchestrator->TryNextMessage("b", next, SteadyClock::now()).status().code(),
            absl::StatusCode::kPermissionDenied);  // b's TLS identity, a's session
  EXPECT_EQ(orchestrator->TryNextMessage("c", next, SteadyClock::now()).status().code(),
            absl::StatusCode::kPermissionDenied);  // not seated
  next.set_step(2);
  auto early = orchestrator->TryNextMessage("a", next, SteadyClock::now());
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());  // parks: nothing yet

  secagg::ClientConfig config;
  config.client_id = a.client_id();
  uint64_t length = (*start)->message().round_start().parameters().vector_length();
  auto client = *secagg::SecAggClient::Create(config, std::vector<float>(length, 0.f), 1.0);
  v1::SubmitRequest submit;
  submit.set_session(a.session());
  submit.set_round_id(a.round_id());
  EXPECT_FALSE(orchestrator->Submit("a", submit, SteadyClock::now()).ok());  // empty message
  *submit.mutable_message() = *client->HandleServerMessage((*start)->message());
  v1::SubmitRequest other_round = submit;
  other_round.mutable_message()->set_round_id(a.round_id() + 1);
  EXPECT_EQ(orchestrator->Submit("a", other_round, SteadyClock::now()).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(orchestrator->Submit("a", submit, SteadyClock::now()).ok());
  EXPECT_EQ(orchestrator->Submit("a", submit, SteadyClock::now()).code(),
            absl::StatusCode::kAlreadyExists);
  // Once a has answered, its step-0 message is released (memory at 1,000
  // clients); b, which has not answered yet, still gets its own.
  next.set_step(0);
  auto again = orchestrator->TryNextMessage("a", next, SteadyClock::now());
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_FALSE((*again)->has_message());
  next.set_session(b.session());
  auto for_b = orchestrator->TryNextMessage("b", next, SteadyClock::now());
  ASSERT_TRUE(for_b.ok() && for_b->has_value());
  EXPECT_TRUE((*for_b)->has_message());
  EXPECT_GT(registry.Render().find("tacit_rejected_messages_total"), 0u);
  orchestrator.reset();
  std::filesystem::remove_all(dir);
}

// Issue 19: a laptop that took a seat and then declined showed up only as
// `dropouts_per_phase [1,0,0,0]`; the log must name the device and phase.
TEST(RoundOrchestrator, LogsEachDroppedDeviceWithItsPhase) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  TaskConfig task = TinyTask(4, 3, 1);
  std::string dir = FreshDir("drops");
  std::vector<FakeDevice> devices(4);
  for (int i = 0; i < 4; ++i) devices[i].id = "dev" + std::to_string(i);
  const size_t silent = rng() % devices.size();
  const int step = static_cast<int>(rng() % 3);  // before the masked input is in
  devices[silent].vanish_in_step = step;
  MetricsRegistry registry;
  std::ostringstream log;
  auto orchestrator = OpenLogged(task, dir, &registry, &log);
  ASSERT_TRUE(orchestrator.ok()) << orchestrator.status();
  RunAttempt(**orchestrator, devices, rng);
  std::vector<nlohmann::json> drops;
  std::istringstream lines(log.str());
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (event.is_object() && event.value("event", "") == "client_dropped") drops.push_back(event);
  }
  ASSERT_EQ(drops.size(), 1u) << log.str();
  EXPECT_EQ(drops[0].value("device", ""), devices[silent].id) << drops[0];
  EXPECT_EQ(drops[0].value("phase", ""), secagg::PhaseName(step)) << drops[0];
  EXPECT_EQ(drops[0].value("round", -1), 1) << drops[0];
  orchestrator->reset();
  std::filesystem::remove_all(dir);
}

// Issue 19: `tacit-coordinator status` needed the running coordinator and
// printed `last round: {}` after a restart. The state folder alone answers,
// also while a coordinator serves it (nothing locked, nothing abandoned).
TEST(RoundOrchestrator, StatusReadsTheStateFolderWithOrWithoutTheCoordinator) {
  TaskConfig task = TinyTask(3, 3, 3);
  task.dp.noise_multiplier = 1.5;
  task.dp.clip_norm = 1.0;
  std::string dir = FreshDir("offline-status");
  std::mt19937_64 rng(11);
  std::vector<FakeDevice> devices(3);
  for (int i = 0; i < 3; ++i) devices[i].id = "dev" + std::to_string(i);
  EXPECT_EQ(OfflineStatusJson(dir).status().code(), absl::StatusCode::kNotFound);
  MetricsRegistry registry;
  auto orchestrator = Open(task, dir, &registry);
  ASSERT_NE(orchestrator, nullptr);
  ASSERT_EQ(RunAttempt(*orchestrator, devices, rng).outcome(), v1::RoundResultResponse::COMMITTED);
  // Round 2 is open (in flight) while the status is read.
  auto live = OfflineStatusJson(dir);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ((*live)["model_version"], 1);
  EXPECT_EQ((*live)["phase"], "in_flight");
  EXPECT_EQ((*live)["round"], 2);
  EXPECT_DOUBLE_EQ((*live)["epsilon"].get<double>(), orchestrator->StatusJson()["epsilon"]);
  EXPECT_GT((*live)["epsilon"].get<double>(), 0);
  EXPECT_EQ(RunAttempt(*orchestrator, devices, rng).outcome(), v1::RoundResultResponse::COMMITTED);
  EXPECT_EQ(orchestrator->model_version(), 2);
  const double epsilon = orchestrator->StatusJson()["epsilon"];
  orchestrator.reset();

  auto offline = OfflineStatusJson(dir);
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_EQ((*offline)["model_version"], 2);
  EXPECT_DOUBLE_EQ((*offline)["epsilon"].get<double>(), epsilon);
  EXPECT_EQ((*offline)["last_round"]["round"], 2);
  const std::string text = FormatStatusText(*offline);
  EXPECT_NE(text.find("last round:    round 2 committed: 3 of 3 clients in the sum"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dropouts: none"), std::string::npos) << text;
  EXPECT_EQ(text.find("{"), std::string::npos) << text;  // no raw JSON
  std::filesystem::remove_all(dir);
}

// Random pairs of round counts and changed keys: raising (or keeping) rounds
// is the one accepted change, and every refusal names each changed key.
TEST(TaskChange, AcceptsOnlyRaisedRoundsAndNamesEveryOtherChangedKey) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> rounds(1, 50);
  for (int trial = 0; trial < 60; ++trial) {
    TaskConfig stored = TinyTask(3, 3, rounds(rng));
    TaskConfig wanted = stored;
    wanted.rounds = rounds(rng);
    const bool salt = rng() % 2 == 0, survivors = rng() % 2 == 0;
    if (salt) wanted.vocab.salt += "x";
    if (survivors) wanted.cohort.min_survivors = 2;
    absl::Status change = CheckTaskChange(TaskConfigToJson(stored), TaskConfigToJson(wanted));
    const bool lowered = wanted.rounds < stored.rounds;
    EXPECT_EQ(change.ok(), !salt && !survivors && !lowered) << change;
    const std::string message(change.message());
    EXPECT_EQ(message.find("vocab.salt") != std::string::npos, salt) << message;
    EXPECT_EQ(message.find("cohort.min_survivors") != std::string::npos, survivors) << message;
    EXPECT_EQ(message.find(absl::StrCat("rounds (lowered from ", stored.rounds, " to ",
                                        wanted.rounds)) != std::string::npos,
              lowered)
        << message;
  }
}

TEST(CheckInLimiter, AllowsTheBurstThenTheRate) {
  CheckInLimiter limiter(60, 3);  // one per second, bursts of 3
  auto t = CheckInLimiter::Clock::now();
  double retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("d", t, &retry));
  EXPECT_FALSE(limiter.Allow("d", t, &retry));
  EXPECT_NEAR(retry, 1.0, 1e-6);
  EXPECT_TRUE(limiter.Allow("other", t, &retry));  // per device
  EXPECT_TRUE(limiter.Allow("d", t + std::chrono::milliseconds(1001), &retry));
  EXPECT_FALSE(limiter.Allow("d", t + std::chrono::milliseconds(1002), &retry));
}

}  // namespace
}  // namespace tacit::coordinator
