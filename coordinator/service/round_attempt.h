#pragma once

// One round attempt as a state machine with no clock and no I/O:
//
//   selecting -> advertise_keys -> share_keys -> masked_input -> unmasking
//             -> aggregated -> committed | abandoned
//
// (any stage before aggregated may also go to abandoned). Every entry point
// takes `now`; deadlines are compared with it and nothing else, so a test
// drives an attempt through its phases and deadlines by passing times. A
// call returns what it did (an AttemptEvent) and the orchestrator acts on it:
// metrics, logs, the state store, the server optimizer. Refused messages
// come back as Refusals (refusal.h) and change nothing.
//
// Deadlines: selection closes at its deadline once anyone is seated (or at
// once when the cohort is full; while too few are seated to plan the round it
// keeps selecting). A phase ends when every client still in it has answered,
// or when Advance/Expire is called at or after its deadline. From the
// deadline on, the phase's messages are late: Submit refuses them and
// NextMessage says "not yet" until the phase has ended.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/round/secure_round.h"
#include "coordinator/service/round_summary.h"
#include "coordinator/service/seat_registry.h"
#include "coordinator/state_store.h"
#include "secure_agg/phase.h"
#include "tacit/v1/federation.pb.h"
#include "task/task_config.h"

namespace tacit::coordinator {

using SteadyClock = std::chrono::steady_clock;

// What every attempt of a task runs by.
struct AttemptRules {
  TaskConfig task;              // cohort size, deadlines, secure aggregation settings
  size_t model_parameters = 0;  // coordinates of the global model
  double noise_stddev = 0;      // announced at check-in; a plan that differs is abandoned
  // Drops clients whose advertised keys are not signed by a fleet device
  // (secure_agg/identity.h); null = not checked.
  std::shared_ptr<const secagg::IdentityVerifier> identity_verifier;
};

enum class AttemptStage { kSelecting, kPhase, kAggregated, kCommitted, kAbandoned };

// What one call did to the attempt.
struct AttemptEvent {
  enum class Kind {
    kNone,
    kSelectionClosed,  // the cohort is fixed; advertise_keys started
    kPhaseStarted,     // a phase ended and the next one started
    kAggregated,       // unmasking ended with the sum: commit it (TakeAggregate)
    kAbandoned,        // the attempt ended without a sum (reason())
  };
  Kind kind = Kind::kNone;
  std::string ended;         // the stage that ended: "selection" or a phase name
  double ended_seconds = 0;  // how long it ran
  std::string waiting;       // kNone: why selection cannot close yet (said once)
  bool changed() const { return kind != Kind::kNone; }
};

class RoundAttempt {
 public:
  // Opens the attempt's selection at `now`. `rules` must outlive it.
  RoundAttempt(const AttemptRules* rules, RoundRecord record, SteadyClock::time_point now,
               SessionSource sessions);

  struct CheckInResult {
    const Seat* seat = nullptr;  // seated now or before (a repeated check-in)
    // When not seated: when to come back, why, and the check-in metric label.
    double retry_seconds = 0;
    std::string retry_reason;
    std::string label;
    AttemptEvent event;  // a full cohort closes selection at once
  };
  CheckInResult CheckIn(const std::string& device, const v1::CheckInRequest& request,
                        SteadyClock::time_point now);

  // The session check alone (e.g. for a model download): refusals
  // not_seated and bad_session.
  absl::Status CheckSeat(const std::string& device, const std::string& session);

  // One client's message for the open phase. Refusals: not_seated,
  // bad_session, out_of_phase, dropped, round_mismatch, late, and the secure
  // aggregation's own (by status code). `*event` says whether it ended the phase.
  absl::Status Submit(const std::string& device, const v1::SubmitRequest& request,
                      SteadyClock::time_point now, AttemptEvent* event);

  // The message for `request.step()`; nullopt: not yet (ask again).
  // `*bytes_down` is set to the size of a message handed out.
  absl::StatusOr<std::optional<v1::NextMessageResponse>> NextMessage(
      const std::string& device, const v1::NextMessageRequest& request, SteadyClock::time_point now,
      int64_t* bytes_down);

  // The outcome once decided; nullopt while pending.
  absl::StatusOr<std::optional<v1::RoundResultResponse>> RoundResult(
      const std::string& device, const v1::RoundResultRequest& request,
      SteadyClock::time_point now);

  // Ends selection or the open phase when its deadline has passed.
  AttemptEvent Advance(SteadyClock::time_point now);
  // Ends selection (if anyone is seated) or the open phase now, as if its
  // deadline had passed.
  AttemptEvent Expire(SteadyClock::time_point now);

  // After kAggregated: the sum to commit (once).
  std::optional<RoundAggregate> TakeAggregate();
  // After kAggregated, once the commit is durable: committed, producing
  // model version round_number (committing round r produces version r).
  void Committed(SteadyClock::time_point now);
  // Ends an attempt that has not ended yet (e.g. the server optimizer refused
  // the sum); the model stays at version round_number - 1. A no-op once
  // committed or abandoned.
  void Abandon(const std::string& reason, SteadyClock::time_point now);

  // The attempt's figures (epsilon and evaluation are the caller's to add).
  RoundSummary Summary(SteadyClock::time_point now) const;
  // Who was selected, as first recorded when selection closes.
  std::vector<ParticipantRecord> SelectedRecords() const;
  // Every seat's final outcome, once the attempt has ended.
  std::vector<ParticipantRecord> OutcomeRecords() const;

  const RoundRecord& record() const { return record_; }
  uint64_t round_id() const { return static_cast<uint64_t>(record_.id); }
  AttemptStage stage() const { return stage_; }
  bool selecting() const { return stage_ == AttemptStage::kSelecting; }
  bool ended() const {
    return stage_ == AttemptStage::kCommitted || stage_ == AttemptStage::kAbandoned;
  }
  // The open phase index 0..3; -1 while selecting.
  int step() const { return step_; }
  // "selecting", the open phase's name, "committed" or "abandoned".
  std::string StageName() const;
  SteadyClock::time_point deadline() const { return deadline_; }
  const SeatRegistry& seats() const { return seats_; }
  std::vector<Seat> TakeNewDrops() { return seats_.TakeNewDrops(); }
  // Messages of the open phase not yet fetched or answered.
  size_t messages_waiting() const { return outbox_.size(); }
  const std::string& reason() const { return reason_; }
  const std::optional<RoundPlan>& plan() const { return plan_; }

 private:
  AttemptEvent CloseSelection(SteadyClock::time_point now);
  AttemptEvent EndPhase(SteadyClock::time_point now);
  AttemptEvent AbandonEvent(const std::string& ended, double seconds, const std::string& reason,
                            SteadyClock::time_point now);
  double PhaseDeadlineSeconds(int phase) const;
  void Release();

  const AttemptRules* rules_;
  RoundRecord record_;
  SeatRegistry seats_;
  AttemptStage stage_ = AttemptStage::kSelecting;
  SteadyClock::time_point opened_;
  SteadyClock::time_point stage_started_;
  SteadyClock::time_point deadline_;  // of selection, then of the open phase
  std::optional<SteadyClock::time_point> ended_at_;
  std::optional<RoundPlan> plan_;
  std::unique_ptr<SecureRound> secure_;
  int step_ = -1;                  // the outbox's step (= phase index); -1 while selecting
  secagg::ServerMessages outbox_;  // the open phase's, held compactly (server_messages.h)
  std::array<double, secagg::kPhaseCount> phase_seconds_{};
  bool waiting_said_ = false;
  std::optional<RoundAggregate> aggregate_;
  // Kept when the secure round is released at the end.
  std::optional<std::array<int, secagg::kPhaseCount>> dropouts_;
  int64_t bytes_up_ = 0;
  int64_t bytes_down_ = 0;
  // Set when the attempt ended.
  std::string reason_;
  int survivors_ = 0;
  std::set<uint32_t> included_;
  int64_t version_after_ = 0;
};

}  // namespace tacit::coordinator
