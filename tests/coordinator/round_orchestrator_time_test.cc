// The orchestrator on an injected clock: times are values the test picks,
// far from the real clock, and nothing sleeps.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "coordinator/service/round_orchestrator.h"
#include "coordinator/structured_log.h"
#include "secure_agg/client.h"
#include "spdlog/sinks/null_sink.h"

namespace tacit::coordinator {
namespace {

using std::chrono::seconds;

TEST(RoundOrchestratorTime, ASubmissionAfterThePhaseDeadlineIsRefusedAsLate) {
  auto task = ParseTaskConfig(
      {{"name", "orchestrator-time-test"},
       {"model",
        {{"name", "gru"},
         {"hyperparameters", {{"embedding_dim", 4}, {"hidden_dim", 4}, {"window", 4}}}}},
       {"vocab", {{"size", 16}, {"salt", "s"}}},
       {"rounds", 1},
       {"cohort", {{"size", 3}, {"over_selection", 1.0}, {"min_survivors", 3}}},
       {"deadlines", {{"check_in", 5}, {"download_train", 50}, {"advertise", 10}}}});
  ASSERT_TRUE(task.ok()) << task.status();
  const std::string dir = ::testing::TempDir() + "/orchestrator_time_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  MetricsRegistry registry;
  auto logger = MakeJsonLogger("test", {std::make_shared<spdlog::sinks::null_sink_mt>()});
  const auto t0 = SteadyClock::time_point() + std::chrono::hours(1000);
  auto orchestrator =
      RoundOrchestrator::Create(*task, *std::move(store), {}, &registry, logger, t0);
  ASSERT_TRUE(orchestrator.ok()) << orchestrator.status();
  RoundOrchestrator& o = **orchestrator;

  v1::CheckInRequest eligible;
  std::vector<v1::Assignment> seats;
  for (const char* device : {"a", "b", "c"}) {
    v1::CheckInResponse response = o.CheckIn(device, eligible, t0);
    ASSERT_TRUE(response.has_assignment()) << response.DebugString();
    seats.push_back(response.assignment());
  }
  EXPECT_EQ(o.Status().open_round->phase, "advertise_keys");  // a full cohort starts at once

  v1::NextMessageRequest next;
  next.set_session(seats[0].session());
  next.set_round_id(seats[0].round_id());
  next.set_step(0);
  auto start = o.TryNextMessage("a", next, t0 + seconds(1));
  ASSERT_TRUE(start.ok() && start->has_value() && (*start)->has_message());
  secagg::ClientConfig config;
  config.client_id = seats[0].client_id();
  const uint64_t length = (*start)->message().round_start().parameters().vector_length();
  auto client = *secagg::SecAggClient::Create(config, std::vector<float>(length, 0.f), 1.0);
  v1::SubmitRequest submit;
  submit.set_session(seats[0].session());
  submit.set_round_id(seats[0].round_id());
  *submit.mutable_message() = *client->HandleServerMessage((*start)->message());

  // advertise_keys ends download_train + advertise = 60 s after selection.
  const auto deadline = t0 + seconds(60);
  absl::Status late = o.Submit("a", submit, deadline);
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition) << late;
  EXPECT_NE(late.message().find("deadline"), std::string::npos) << late;
  EXPECT_NE(registry.Render().find("tacit_rejected_messages_total{reason=\"late\"} 1"),
            std::string::npos);
  EXPECT_EQ(o.Status().open_round->phase, "advertise_keys");  // nothing changed
  EXPECT_EQ(o.Status().open_round->dropped, 0);
  auto waiting = o.TryNextMessage("a", next, deadline);
  ASSERT_TRUE(waiting.ok());
  EXPECT_FALSE(waiting->has_value());  // the phase is ending: ask again

  // The same message a second earlier is in time.
  EXPECT_TRUE(o.Submit("a", submit, deadline - seconds(1)).ok());
  // The deadline drops b and c: too few for the round, which is abandoned
  // and retried as attempt 2.
  o.Tick(deadline);
  CoordinatorStatus status = o.Status();
  ASSERT_TRUE(status.last_round.has_value());
  EXPECT_EQ(status.last_round->outcome, AttemptOutcome::kAbandoned);
  EXPECT_EQ(status.last_round->dropouts_per_phase.value()[0], 2);
  EXPECT_DOUBLE_EQ(status.last_round->seconds, 60.0);
  ASSERT_TRUE(status.open_round.has_value());
  EXPECT_EQ(status.open_round->attempt, 2);
  EXPECT_EQ(status.open_round->phase, "selecting");
  EXPECT_EQ(status.model_version, 0);
  v1::RoundResultRequest result;
  result.set_session(seats[0].session());
  result.set_round_id(seats[0].round_id());
  auto outcome = o.TryRoundResult("a", result, deadline);
  ASSERT_TRUE(outcome.ok() && outcome->has_value());
  EXPECT_EQ((*outcome)->outcome(), v1::RoundResultResponse::ABANDONED);
  orchestrator->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tacit::coordinator
