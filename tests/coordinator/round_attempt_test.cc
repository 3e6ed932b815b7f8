// One round attempt's state machine, driven by hand-picked times: no clock
// is read and nothing sleeps. Real SecAgg clients answer the phases.

#include "coordinator/service/round_attempt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/service/refusal.h"
#include "secure_agg/client.h"

namespace tacit::coordinator {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr size_t kParameters = 6;

TaskConfig Task(int cohort, int min_survivors) {
  nlohmann::json json = {
      {"name", "attempt-test"},
      {"model", {{"name", "gru"}}},
      {"vocab", {{"salt", "s"}}},
      {"cohort", {{"size", cohort}, {"over_selection", 1.0}, {"min_survivors", min_survivors}}},
      {"deadlines",
       {{"check_in", 10},
        {"download_train", 100},
        {"advertise", 10},
        {"share_keys", 20},
        {"masked_input", 30},
        {"unmasking", 40}}},
      {"evaluation", {{"enabled", false}}},
      {"secure_agg", {{"clip_range", 0.5}}}};
  auto task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

v1::CheckInRequest Eligible() { return v1::CheckInRequest(); }

// An attempt of round 3 (id 42) with fixed session tokens, opened at t0.
class AttemptTest : public ::testing::Test {
 protected:
  void Open(int cohort, int min_survivors) {
    rules_.task = Task(cohort, min_survivors);
    rules_.model_parameters = kParameters;
    std::vector<uint32_t> ids;
    for (int i = 1; i <= rules_.task.SelectedPerRound(); ++i) ids.push_back(i);
    auto nominal = PlanRound(rules_.task, 0, ids, kParameters);
    ASSERT_TRUE(nominal.ok()) << nominal.status();  // the caller checks attempt_
    rules_.noise_stddev = nominal->noise_stddev;
    RoundRecord record;
    record.id = 42;
    record.round_number = 3;
    auto sessions = [n = 0]() mutable -> absl::StatusOr<std::string> {
      return "session-" + std::to_string(++n);
    };
    attempt_ = std::make_unique<RoundAttempt>(&rules_, record, t0_, sessions);
  }

  // Seats `device` at `now`; returns the event of its check-in.
  AttemptEvent Seat(const std::string& device, SteadyClock::time_point now) {
    RoundAttempt::CheckInResult result = attempt_->CheckIn(device, Eligible(), now);
    EXPECT_NE(result.seat, nullptr) << device << ": " << result.retry_reason;
    if (result.seat != nullptr) seats_[device] = *result.seat;
    return result.event;
  }

  v1::NextMessageRequest Next(const std::string& device, uint32_t step) {
    v1::NextMessageRequest next;
    next.set_session(seats_[device].session);
    next.set_round_id(42);
    next.set_step(step);
    return next;
  }

  // The device's answer to its message of `step` (fetched at `now`).
  v1::SubmitRequest Answer(const std::string& device, uint32_t step, SteadyClock::time_point now) {
    int64_t bytes = 0;
    auto message = attempt_->NextMessage(device, Next(device, step), now, &bytes);
    EXPECT_TRUE(message.ok() && message->has_value() && (*message)->has_message())
        << device << " step " << step;
    v1::SubmitRequest submit;
    submit.set_session(seats_[device].session);
    submit.set_round_id(42);
    if (!message.ok() || !message->has_value() || !(*message)->has_message()) return submit;
    EXPECT_GT(bytes, 0);
    const v1::SecAggServerToClient& from_server = (*message)->message();
    if (step == 0) {
      secagg::ClientConfig config;
      config.client_id = seats_[device].client_id;
      const uint64_t length = from_server.round_start().parameters().vector_length();
      EXPECT_EQ(length, kParameters);
      clients_[device] = *secagg::SecAggClient::Create(
          config, std::vector<float>(length, 0.01f * static_cast<float>(config.client_id)), 1.0);
    }
    auto reply = clients_[device]->HandleServerMessage(from_server);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (reply.ok()) *submit.mutable_message() = *reply;
    return submit;
  }

  // Answers `step` for `devices` at `now`; returns the last event.
  AttemptEvent AnswerAll(const std::vector<std::string>& devices, uint32_t step,
                         SteadyClock::time_point now) {
    AttemptEvent last;
    for (const std::string& device : devices) {
      AttemptEvent event;
      absl::Status status = attempt_->Submit(device, Answer(device, step, now), now, &event);
      EXPECT_TRUE(status.ok()) << device << " step " << step << ": " << status;
      if (event.changed()) last = event;
    }
    return last;
  }

  const SteadyClock::time_point t0_ = SteadyClock::time_point() + std::chrono::hours(5);
  AttemptRules rules_;
  std::unique_ptr<RoundAttempt> attempt_;
  std::map<std::string, ::tacit::coordinator::Seat> seats_;
  std::map<std::string, std::unique_ptr<secagg::SecAggClient>> clients_;
};

TEST_F(AttemptTest, SelectionClosesAtItsDeadlineOnlyWithSomeoneSeated) {
  ASSERT_NO_FATAL_FAILURE(Open(4, 3));
  EXPECT_FALSE(attempt_->Advance(t0_ + seconds(60)).changed());  // nobody seated
  EXPECT_TRUE(attempt_->selecting());
  Seat("a", t0_);
  EXPECT_FALSE(attempt_->Advance(t0_ + seconds(9)).changed());  // before the deadline
  // One device cannot make a round of min_survivors 3: it keeps selecting,
  // and says why once.
  AttemptEvent waiting = attempt_->Advance(t0_ + seconds(10));
  EXPECT_FALSE(waiting.changed());
  EXPECT_FALSE(waiting.waiting.empty());
  EXPECT_TRUE(attempt_->Advance(t0_ + seconds(11)).waiting.empty());
  EXPECT_TRUE(attempt_->selecting());
  Seat("b", t0_ + seconds(12));
  Seat("c", t0_ + seconds(12));
  AttemptEvent closed = attempt_->Advance(t0_ + seconds(13));
  EXPECT_EQ(closed.kind, AttemptEvent::Kind::kSelectionClosed);
  EXPECT_EQ(closed.ended, "selection");
  EXPECT_DOUBLE_EQ(closed.ended_seconds, 13.0);
  EXPECT_EQ(attempt_->StageName(), "advertise_keys");
  // advertise_keys runs download_train + advertise from the close.
  EXPECT_EQ(attempt_->deadline(), t0_ + seconds(13 + 110));
  EXPECT_EQ(attempt_->SelectedRecords().size(), 3u);
}

TEST_F(AttemptTest, AFullCohortClosesSelectionAtOnceAndLaterCheckInsWait) {
  ASSERT_NO_FATAL_FAILURE(Open(3, 3));
  EXPECT_FALSE(Seat("a", t0_).changed());
  EXPECT_FALSE(Seat("b", t0_).changed());
  EXPECT_EQ(Seat("c", t0_ + seconds(1)).kind, AttemptEvent::Kind::kSelectionClosed);
  RoundAttempt::CheckInResult late = attempt_->CheckIn("d", Eligible(), t0_ + seconds(2));
  EXPECT_EQ(late.seat, nullptr);
  EXPECT_EQ(late.label, "running");
  EXPECT_DOUBLE_EQ(late.retry_seconds, 109.0);  // until advertise_keys' deadline
  RoundAttempt::CheckInResult again = attempt_->CheckIn("a", Eligible(), t0_ + seconds(2));
  EXPECT_EQ(again.seat, nullptr);  // its state is lost once the round runs
  EXPECT_EQ(again.label, "running");
}

TEST_F(AttemptTest, RepeatsASeatWhileSelecting) {
  ASSERT_NO_FATAL_FAILURE(Open(3, 2));
  Seat("a", t0_);
  RoundAttempt::CheckInResult again = attempt_->CheckIn("a", Eligible(), t0_ + seconds(1));
  ASSERT_NE(again.seat, nullptr);
  EXPECT_EQ(again.seat->session, "session-1");
  EXPECT_EQ(attempt_->seats().size(), 1u);
}

TEST_F(AttemptTest, CommitsWhenEveryoneAnswersEveryPhase) {
  ASSERT_NO_FATAL_FAILURE(Open(3, 3));
  const std::vector<std::string> all = {"a", "b", "c"};
  for (const std::string& d : all) Seat(d, t0_);
  auto t = t0_ + seconds(1);
  EXPECT_EQ(AnswerAll(all, 0, t).kind, AttemptEvent::Kind::kPhaseStarted);
  EXPECT_EQ(attempt_->StageName(), "share_keys");
  EXPECT_EQ(attempt_->deadline(), t + seconds(20));
  EXPECT_EQ(AnswerAll(all, 1, t).kind, AttemptEvent::Kind::kPhaseStarted);
  EXPECT_EQ(AnswerAll(all, 2, t).kind, AttemptEvent::Kind::kPhaseStarted);
  EXPECT_EQ(AnswerAll(all, 3, t).kind, AttemptEvent::Kind::kPhaseStarted);
  AttemptEvent last = AnswerAll(all, 4, t + seconds(2));
  ASSERT_EQ(last.kind, AttemptEvent::Kind::kAggregated);
  EXPECT_EQ(last.ended, "unmasking");
  EXPECT_DOUBLE_EQ(last.ended_seconds, 2.0);
  // Not decided until the commit is durable.
  v1::RoundResultRequest result;
  result.set_session(seats_["b"].session);
  result.set_round_id(42);
  auto pending = attempt_->RoundResult("b", result, t);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->has_value());
  std::optional<RoundAggregate> aggregate = attempt_->TakeAggregate();
  ASSERT_TRUE(aggregate.has_value());
  ASSERT_EQ(aggregate->mean_update.size(), kParameters);
  EXPECT_NEAR(aggregate->mean_update[0], 0.02, 1e-3);   // mean of 0.01, 0.02, 0.03
  EXPECT_FALSE(attempt_->TakeAggregate().has_value());  // once
  attempt_->Committed(t + seconds(3));
  auto decided = attempt_->RoundResult("b", result, t + seconds(4));
  ASSERT_TRUE(decided.ok() && decided->has_value());
  EXPECT_EQ((*decided)->outcome(), v1::RoundResultResponse::COMMITTED);
  EXPECT_EQ((*decided)->model_version(), 3);
  EXPECT_EQ((*decided)->survivors(), 3);
  EXPECT_TRUE((*decided)->included());
  RoundSummary summary = attempt_->Summary(t + seconds(100));
  EXPECT_EQ(summary.outcome, AttemptOutcome::kCommitted);
  EXPECT_EQ(summary.cohort_size, 3);
  EXPECT_EQ(summary.survivors, 3);
  EXPECT_DOUBLE_EQ(summary.seconds, 4.0);  // opening to commit, not to the summary
  ASSERT_TRUE(summary.dropouts_per_phase.has_value());
  EXPECT_EQ(*summary.dropouts_per_phase, (std::array<int, secagg::kPhaseCount>{}));
  for (const ParticipantRecord& r : attempt_->OutcomeRecords()) {
    EXPECT_EQ(r.outcome, ParticipantOutcome::kCompleted) << r.device_id;
  }
}

TEST_F(AttemptTest, ShareKeysTimesOutAtItsDeadlineAndTheAttemptIsAbandoned) {
  ASSERT_NO_FATAL_FAILURE(Open(3, 3));
  const std::vector<std::string> all = {"a", "b", "c"};
  for (const std::string& d : all) Seat(d, t0_);
  const auto t = t0_ + seconds(1);
  ASSERT_EQ(AnswerAll(all, 0, t).kind, AttemptEvent::Kind::kPhaseStarted);
  const auto deadline = t + seconds(20);
  ASSERT_EQ(attempt_->deadline(), deadline);
  EXPECT_EQ(AnswerAll({"a", "b"}, 1, t + seconds(5)).kind, AttemptEvent::Kind::kNone);
  // c never answers. Just before the deadline nothing happens.
  EXPECT_FALSE(attempt_->Advance(deadline - std::chrono::nanoseconds(1)).changed());
  EXPECT_EQ(attempt_->StageName(), "share_keys");
  AttemptEvent ended = attempt_->Advance(deadline);
  ASSERT_EQ(ended.kind, AttemptEvent::Kind::kAbandoned);
  EXPECT_EQ(ended.ended, "share_keys");
  EXPECT_DOUBLE_EQ(ended.ended_seconds, 20.0);
  EXPECT_TRUE(attempt_->ended());
  EXPECT_FALSE(attempt_->reason().empty());
  RoundSummary summary = attempt_->Summary(deadline);
  EXPECT_EQ(summary.outcome, AttemptOutcome::kAbandoned);
  ASSERT_TRUE(summary.dropouts_per_phase.has_value());
  EXPECT_EQ((*summary.dropouts_per_phase)[1], 1);
  for (const ParticipantRecord& r : attempt_->OutcomeRecords()) {
    EXPECT_EQ(r.outcome, ParticipantOutcome::kDropped);
    if (r.device_id == "c") {
      EXPECT_EQ(r.drop_phase, "share_keys");
      EXPECT_EQ(r.drop_reason, "deadline");
    } else {
      EXPECT_THAT(r.drop_reason, HasSubstr("round abandoned"));
    }
  }
  v1::RoundResultRequest result;
  result.set_session(seats_["a"].session);
  result.set_round_id(42);
  auto answer = attempt_->RoundResult("a", result, deadline);
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_EQ((*answer)->outcome(), v1::RoundResultResponse::ABANDONED);
  EXPECT_EQ((*answer)->model_version(), 2);  // round 3 started from version 2
  EXPECT_FALSE((*answer)->included());
}

TEST_F(AttemptTest, ASubmitAfterTheDeadlineIsRefusedAndChangesNothing) {
  // Nine seats: the threshold is above two thirds (7 of 9), so the round goes
  // on with two of them dropped.
  ASSERT_NO_FATAL_FAILURE(Open(9, 3));
  const std::vector<std::string> all = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  for (const std::string& d : all) Seat(d, t0_);
  const auto t = t0_ + seconds(1);
  ASSERT_EQ(AnswerAll(all, 0, t).kind, AttemptEvent::Kind::kPhaseStarted);
  const auto deadline = t + seconds(20);
  AnswerAll({"a", "b", "c", "f", "g", "h", "i"}, 1, t + seconds(2));
  // d fetched its message in time but answers at the deadline: late.
  v1::SubmitRequest late = Answer("d", 1, t + seconds(3));
  AttemptEvent event;
  absl::Status refused = attempt_->Submit("d", late, deadline, &event);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RefusalReason(refused), "late");
  EXPECT_THAT(refused.message(), HasSubstr("share_keys"));
  EXPECT_FALSE(event.changed());
  EXPECT_EQ(attempt_->StageName(), "share_keys");
  EXPECT_EQ(attempt_->seats().dropped(), 0);
  // e asks for its message at the deadline: not yet (the phase is ending).
  int64_t bytes = -1;
  auto polled = attempt_->NextMessage("e", Next("e", 1), deadline, &bytes);
  ASSERT_TRUE(polled.ok());
  EXPECT_FALSE(polled->has_value());
  EXPECT_EQ(bytes, 0);
  // The deadline ends the phase without d and e; the other seven go on.
  AttemptEvent ended = attempt_->Advance(deadline);
  ASSERT_EQ(ended.kind, AttemptEvent::Kind::kPhaseStarted);
  EXPECT_EQ(attempt_->StageName(), "masked_input");
  EXPECT_EQ(attempt_->seats().dropped(), 2);
  absl::Status after = attempt_->Submit("d", late, deadline + seconds(1), &event);
  EXPECT_EQ(RefusalReason(after), "dropped");
  polled = attempt_->NextMessage("e", Next("e", 2), deadline, &bytes);
  ASSERT_TRUE(polled.ok() && polled->has_value());
  EXPECT_THAT((*polled)->round_over(), HasSubstr("share_keys: deadline"));
}

TEST_F(AttemptTest, RefusesForeignSessionsReplaysAndMismatchedRounds) {
  ASSERT_NO_FATAL_FAILURE(Open(3, 3));
  Seat("a", t0_);
  Seat("b", t0_);
  Seat("c", t0_);
  const auto t = t0_ + seconds(1);
  v1::SubmitRequest answer = Answer("a", 0, t);
  AttemptEvent event;
  EXPECT_EQ(RefusalReason(attempt_->Submit("b", answer, t, &event)), "bad_session");
  EXPECT_EQ(RefusalReason(attempt_->Submit("z", answer, t, &event)), "not_seated");
  v1::SubmitRequest other = answer;
  other.mutable_message()->set_round_id(43);
  EXPECT_EQ(RefusalReason(attempt_->Submit("a", other, t, &event)), "round_mismatch");
  ASSERT_TRUE(attempt_->Submit("a", answer, t, &event).ok());
  absl::Status replay = attempt_->Submit("a", answer, t, &event);
  EXPECT_EQ(replay.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(event.changed());
  int64_t bytes = 0;
  v1::NextMessageRequest bad = Next("a", secagg::kPhaseCount);
  EXPECT_EQ(RefusalReason(attempt_->NextMessage("a", bad, t, &bytes).status()), "bad_step");
  EXPECT_EQ(attempt_->StageName(), "advertise_keys");
}

TEST_F(AttemptTest, ExpireEndsSelectionAndPhasesBeforeTheirDeadlines) {
  ASSERT_NO_FATAL_FAILURE(Open(4, 3));
  EXPECT_FALSE(attempt_->Expire(t0_).changed());  // nobody seated
  for (const char* d : {"a", "b", "c"}) Seat(d, t0_);
  EXPECT_EQ(attempt_->Expire(t0_).kind, AttemptEvent::Kind::kSelectionClosed);
  AttemptEvent ended = attempt_->Expire(t0_);
  EXPECT_EQ(ended.kind, AttemptEvent::Kind::kAbandoned);  // nobody advertised keys
  EXPECT_EQ(attempt_->Summary(t0_).dropouts_per_phase.value()[0], 3);
  EXPECT_FALSE(attempt_->Expire(t0_).changed());  // over
}

}  // namespace
}  // namespace tacit::coordinator
