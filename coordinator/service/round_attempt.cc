#include "coordinator/service/round_attempt.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "coordinator/service/refusal.h"

namespace tacit::coordinator {
namespace {

// Durations never run backwards, even when callers pass times out of order.
double Seconds(SteadyClock::duration d) {
  return std::max(0.0, std::chrono::duration<double>(d).count());
}
SteadyClock::duration FromSeconds(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

RoundAttempt::RoundAttempt(const AttemptRules* rules, RoundRecord record,
                           SteadyClock::time_point now, SessionSource sessions)
    : rules_(rules),
      record_(std::move(record)),
      seats_(std::move(sessions)),
      opened_(now),
      stage_started_(now),
      deadline_(now + FromSeconds(rules->task.deadlines.check_in)) {}

std::string RoundAttempt::StageName() const {
  switch (stage_) {
    case AttemptStage::kSelecting:
      return "selecting";
    case AttemptStage::kPhase:
    case AttemptStage::kAggregated:
      return secagg::PhaseName(step_);
    case AttemptStage::kCommitted:
      return "committed";
    case AttemptStage::kAbandoned:
      break;
  }
  return "abandoned";
}

RoundAttempt::CheckInResult RoundAttempt::CheckIn(const std::string& device,
                                                  const v1::CheckInRequest& request,
                                                  SteadyClock::time_point now) {
  CheckInResult result;
  const double remaining = std::max(1.0, Seconds(deadline_ - now));
  auto retry = [&](double seconds, std::string reason, const char* label) {
    result.retry_seconds = seconds;
    result.retry_reason = std::move(reason);
    result.label = label;
    return result;
  };
  if (const Seat* seated = seats_.Find(device); seated != nullptr) {
    if (selecting()) {
      result.seat = seated;
      return result;
    }
    return retry(remaining,
                 "already in the running round and its state is lost; rejoin the next round",
                 "running");
  }
  if (!selecting()) {
    return retry(remaining,
                 absl::StrCat("round ", record_.round_number, " is running; rejoin the next"),
                 "running");
  }
  // Eligibility (pause, power, idle, network) is the laptop's own decision,
  // made before it checks in and never sent: a check-in is a request to join.
  const size_t cohort = static_cast<size_t>(rules_->task.SelectedPerRound());
  if (seats_.size() >= cohort) return retry(remaining, "cohort full", "cohort_full");
  absl::StatusOr<const Seat*> seat = seats_.Add(device);
  if (!seat.ok()) return retry(5, std::string(seat.status().message()), "error");
  result.seat = *seat;
  if (seats_.size() >= cohort) result.event = CloseSelection(now);
  return result;
}

absl::Status RoundAttempt::CheckSeat(const std::string& device, const std::string& session) {
  return seats_.Check(device, session, round_id()).status();
}

absl::Status RoundAttempt::Submit(const std::string& device, const v1::SubmitRequest& request,
                                  SteadyClock::time_point now, AttemptEvent* event) {
  absl::StatusOr<Seat*> seat = seats_.Check(device, request.session(), request.round_id());
  if (!seat.ok()) return seat.status();
  if (stage_ != AttemptStage::kPhase) {
    return Refusal("out_of_phase", absl::FailedPreconditionError(absl::StrCat(
                                       "round ", request.round_id(), " is ", StageName(),
                                       ", not in a secure aggregation phase")));
  }
  if ((*seat)->out) {
    return Refusal("dropped", absl::FailedPreconditionError(absl::StrCat(
                                  "client ", (*seat)->client_id, " left round ", request.round_id(),
                                  " (", (*seat)->drop_reason, "); rejoin the next round")));
  }
  if (request.message().round_id() != request.round_id()) {
    return Refusal("round_mismatch",
                   absl::PermissionDeniedError(absl::StrCat(
                       "the secure aggregation message names round ", request.message().round_id(),
                       " but the request round ", request.round_id())));
  }
  if (now >= deadline_) {
    return Refusal("late", absl::FailedPreconditionError(absl::StrCat(
                               "phase ", secagg::PhaseName(step_), " of round ", request.round_id(),
                               " passed its deadline ", Seconds(now - deadline_),
                               " s before this message arrived; rejoin the next round")));
  }
  absl::Status received = secure_->Receive((*seat)->client_id, request.message());
  if (!received.ok()) {
    return Refusal(
        absl::StatusCodeToString(received.code()),
        absl::Status(received.code(), absl::StrCat("round ", request.round_id(), " client ",
                                                   (*seat)->client_id, ": ", received.message())));
  }
  (*seat)->bytes_up += static_cast<int64_t>(request.ByteSizeLong());
  // A client that answered has its message for this step: drop it now
  // rather than at the phase end. The share deliveries of a degree-312
  // round are ~40 MiB at 1,000 clients, even held serialized, and would
  // otherwise be held through the whole masked-input phase.
  outbox_.Erase((*seat)->client_id);
  if (secure_->PendingClients().empty()) *event = EndPhase(now);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::NextMessageResponse>> RoundAttempt::NextMessage(
    const std::string& device, const v1::NextMessageRequest& request, SteadyClock::time_point now,
    int64_t* bytes_down) {
  *bytes_down = 0;
  absl::StatusOr<Seat*> found = seats_.Check(device, request.session(), request.round_id());
  if (!found.ok()) return found.status();
  Seat& seat = **found;
  if (request.step() >= static_cast<uint32_t>(secagg::kPhaseCount)) {
    return Refusal("bad_step", absl::InvalidArgumentError(
                                   absl::StrCat("step ", request.step(), " does not exist (0..",
                                                secagg::kPhaseCount - 1, ")")));
  }
  const int step = static_cast<int>(request.step());
  v1::NextMessageResponse response;
  if (seat.out) {
    response.set_round_over(
        absl::StrCat("left the round in ", seat.drop_phase, ": ", seat.drop_reason));
    return response;
  }
  if (ended()) {
    response.set_round_over(absl::StrCat("the round ended: ", reason_));
    return response;
  }
  if (step > step_) return std::optional<v1::NextMessageResponse>();  // not yet
  if (step < step_) {
    response.set_round_over(absl::StrCat("step ", step, " is over; the round is at step ", step_));
    return response;
  }
  // Past the deadline the phase is over though not yet ended: an answer
  // would be late, so the client waits for what comes next.
  if (stage_ != AttemptStage::kPhase || now >= deadline_) {
    return std::optional<v1::NextMessageResponse>();
  }
  if (!outbox_.contains(seat.client_id)) {
    response.set_round_over("no message for this client in this step");
    return response;
  }
  // Built from the outbox's compact form for this response only.
  absl::Status copied = outbox_.CopyTo(seat.client_id, response.mutable_message());
  if (!copied.ok()) return copied;
  *bytes_down = static_cast<int64_t>(response.message().ByteSizeLong());
  seat.bytes_down += *bytes_down;
  return response;
}

absl::StatusOr<std::optional<v1::RoundResultResponse>> RoundAttempt::RoundResult(
    const std::string& device, const v1::RoundResultRequest& request,
    SteadyClock::time_point /*now: the outcome does not depend on it*/) {
  absl::StatusOr<Seat*> seat = seats_.Check(device, request.session(), request.round_id());
  if (!seat.ok()) return seat.status();
  if (!ended()) return std::optional<v1::RoundResultResponse>();
  v1::RoundResultResponse response;
  response.set_outcome(stage_ == AttemptStage::kCommitted ? v1::RoundResultResponse::COMMITTED
                                                          : v1::RoundResultResponse::ABANDONED);
  response.set_model_version(version_after_);
  response.set_survivors(survivors_);
  response.set_included(included_.count((*seat)->client_id) > 0);
  response.set_reason(reason_);
  return response;
}

AttemptEvent RoundAttempt::Advance(SteadyClock::time_point now) {
  return now < deadline_ ? AttemptEvent{} : Expire(now);
}

AttemptEvent RoundAttempt::Expire(SteadyClock::time_point now) {
  if (selecting()) return seats_.size() == 0 ? AttemptEvent{} : CloseSelection(now);
  if (stage_ == AttemptStage::kPhase) return EndPhase(now);
  return {};
}

AttemptEvent RoundAttempt::CloseSelection(SteadyClock::time_point now) {
  AttemptEvent event;
  absl::StatusOr<RoundPlan> plan =
      PlanRound(rules_->task, round_id(), seats_.client_ids(), rules_->model_parameters);
  if (!plan.ok()) {
    // Too few devices so far: keep selecting; the seated ones wait.
    if (!waiting_said_) {
      event.waiting = std::string(plan.status().message());
      waiting_said_ = true;
    }
    return event;
  }
  const double seconds = Seconds(now - stage_started_);
  if (plan->noise_stddev != rules_->noise_stddev) {
    return AbandonEvent("selection", seconds,
                        "the planned noise share differs from the one announced at check-in", now);
  }
  absl::StatusOr<std::unique_ptr<SecureRound>> secure =
      SecureRound::Create(*plan, rules_->identity_verifier);
  absl::StatusOr<secagg::ServerMessages> start = secure.ok() ? (*secure)->Start() : secure.status();
  if (!start.ok()) {
    return AbandonEvent(
        "selection", seconds,
        absl::StrCat("secure aggregation could not start: ", start.status().message()), now);
  }
  plan_ = *std::move(plan);
  secure_ = *std::move(secure);
  outbox_ = *std::move(start);
  stage_ = AttemptStage::kPhase;
  step_ = 0;
  stage_started_ = now;
  deadline_ =
      now + FromSeconds(rules_->task.deadlines.download_train + rules_->task.deadlines.advertise);
  event.kind = AttemptEvent::Kind::kSelectionClosed;
  event.ended = "selection";
  event.ended_seconds = seconds;
  return event;
}

double RoundAttempt::PhaseDeadlineSeconds(int phase) const {
  switch (static_cast<secagg::Phase>(phase)) {
    case secagg::Phase::kShareKeys:
      return rules_->task.deadlines.share_keys;
    case secagg::Phase::kMaskedInput:
      return rules_->task.deadlines.masked_input;
    case secagg::Phase::kConsistencyCheck:  // a signature each way: as short as unmasking
    default:
      return rules_->task.deadlines.unmasking;
  }
}

AttemptEvent RoundAttempt::EndPhase(SteadyClock::time_point now) {
  const int phase = step_;
  const std::string name = secagg::PhaseName(phase);
  for (uint32_t id : secure_->PendingClients()) seats_.Drop(id, name, "deadline");
  const double seconds = Seconds(now - stage_started_);
  phase_seconds_[phase] = seconds;
  absl::StatusOr<SecureRound::Step> step = secure_->EndPhase();
  if (!step.ok()) return AbandonEvent(name, seconds, std::string(step.status().message()), now);
  AttemptEvent event;
  event.ended = name;
  event.ended_seconds = seconds;
  if (step->aggregate) {
    aggregate_ = *std::move(step->aggregate);
    survivors_ = static_cast<int>(aggregate_->survivors.size());
    included_.insert(aggregate_->survivors.begin(), aggregate_->survivors.end());
    stage_ = AttemptStage::kAggregated;
    outbox_.Clear();
    event.kind = AttemptEvent::Kind::kAggregated;
    return event;
  }
  // Seats with no next message were dropped by the protocol (e.g. a
  // neighbour set below threshold).
  const std::string next = secagg::PhaseName(phase + 1);
  for (const Seat& seat : seats_.seats()) {
    if (!seat.out && !step->messages.contains(seat.client_id)) {
      seats_.Drop(seat.client_id, next, "excluded by the protocol");
    }
  }
  outbox_ = std::move(step->messages);
  step_ = phase + 1;
  stage_started_ = now;
  deadline_ = now + FromSeconds(PhaseDeadlineSeconds(step_));
  event.kind = AttemptEvent::Kind::kPhaseStarted;
  return event;
}

AttemptEvent RoundAttempt::AbandonEvent(const std::string& ended, double seconds,
                                        const std::string& reason, SteadyClock::time_point now) {
  Abandon(reason, now);
  AttemptEvent event;
  event.kind = AttemptEvent::Kind::kAbandoned;
  event.ended = ended;
  event.ended_seconds = seconds;
  return event;
}

std::optional<RoundAggregate> RoundAttempt::TakeAggregate() {
  std::optional<RoundAggregate> aggregate = std::move(aggregate_);
  aggregate_.reset();
  return aggregate;
}

void RoundAttempt::Committed(SteadyClock::time_point now) {
  if (stage_ != AttemptStage::kAggregated) return;
  stage_ = AttemptStage::kCommitted;
  version_after_ = record_.round_number;  // committing round r produces version r
  ended_at_ = now;
  Release();
}

void RoundAttempt::Abandon(const std::string& reason, SteadyClock::time_point now) {
  if (ended()) return;
  stage_ = AttemptStage::kAbandoned;
  reason_ = reason;
  version_after_ = record_.round_number - 1;  // the model the attempt started from
  survivors_ = 0;
  included_.clear();
  ended_at_ = now;
  Release();
}

void RoundAttempt::Release() {
  if (secure_) {
    dropouts_ = secure_->dropouts_per_phase();
    bytes_up_ = secure_->bytes_received();
    bytes_down_ = secure_->bytes_sent();
  }
  secure_.reset();
  outbox_.Clear();
  aggregate_.reset();
}

RoundSummary RoundAttempt::Summary(SteadyClock::time_point now) const {
  RoundSummary s;
  s.round_number = record_.round_number;
  s.outcome =
      stage_ == AttemptStage::kCommitted ? AttemptOutcome::kCommitted : AttemptOutcome::kAbandoned;
  s.reason = reason_;
  s.cohort_size = static_cast<int>(seats_.size());
  s.survivors = survivors_;
  if (secure_) {
    s.dropouts_per_phase = secure_->dropouts_per_phase();
    s.bytes_up = secure_->bytes_received();
    s.bytes_down = secure_->bytes_sent();
  } else if (dropouts_) {
    s.dropouts_per_phase = dropouts_;
    s.bytes_up = bytes_up_;
    s.bytes_down = bytes_down_;
  }
  s.phase_seconds = phase_seconds_;
  s.seconds = Seconds(ended_at_.value_or(now) - opened_);
  return s;
}

std::vector<ParticipantRecord> RoundAttempt::SelectedRecords() const {
  std::vector<ParticipantRecord> records;
  for (const Seat& seat : seats_.seats()) {
    ParticipantRecord record;
    record.device_id = seat.device;
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<ParticipantRecord> RoundAttempt::OutcomeRecords() const {
  std::vector<ParticipantRecord> records;
  const std::string stage = step_ < 0 ? "selection" : secagg::PhaseName(step_);
  for (const Seat& seat : seats_.seats()) {
    ParticipantRecord r;
    r.device_id = seat.device;
    r.bytes_up = seat.bytes_up;
    r.bytes_down = seat.bytes_down;
    const bool included = included_.count(seat.client_id) > 0;
    if (included && !seat.out) {
      r.outcome = ParticipantOutcome::kCompleted;
    } else if (included) {
      // Left while unmasking: its update is in the sum, its shares are not.
      r.outcome = ParticipantOutcome::kDropped;
      r.drop_phase = seat.drop_phase;
      r.drop_reason = seat.drop_reason + " (its update is in the sum)";
    } else {
      r.outcome = ParticipantOutcome::kDropped;
      r.drop_phase = seat.out ? seat.drop_phase : stage;
      r.drop_reason = seat.out ? seat.drop_reason : "round abandoned: " + reason_;
    }
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace tacit::coordinator
