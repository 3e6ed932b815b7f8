#include "coordinator/service/task_rounds.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/service/refusal.h"
#include "coordinator/service/task_change.h"
#include "coordinator/service/task_resume.h"
#include "coordinator/structured_log.h"
#include "models/parameter_layout.h"
#include "task/task_model.h"
#include "task/task_proto.h"

namespace tacit::coordinator {
namespace {

constexpr size_t kRecentAttempts = 4;  // finished rounds kept for late RoundResult calls

}  // namespace

TaskRounds::TaskRounds(TaskConfig task, std::unique_ptr<StateStore> store,
                       OrchestratorOptions options, ServiceMetrics metrics,
                       std::shared_ptr<spdlog::logger> logger)
    : task_(std::move(task)),
      store_(std::move(store)),
      options_(std::move(options)),
      metrics_(metrics),
      log_(std::move(logger)) {
  if (!options_.sessions) options_.sessions = RandomSessions();
}

absl::StatusOr<std::unique_ptr<TaskRounds>> TaskRounds::Create(
    const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
    ServiceMetrics metrics, std::shared_ptr<spdlog::logger> logger, SteadyClock::time_point now) {
  std::unique_ptr<TaskRounds> rounds(
      new TaskRounds(task, std::move(store), std::move(options), metrics, std::move(logger)));
  TACIT_RETURN_IF_ERROR(rounds->Initialize(now));
  return rounds;
}

absl::Status TaskRounds::Initialize(SteadyClock::time_point now) {
  TACIT_ASSIGN_OR_RETURN(::tacit::ModelConfig model_config, ResolveTaskModel(task_));
  TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(model_config));
  publisher_ = std::make_unique<ModelPublisher>(model_config, layout.hash);
  task_json_ = TaskConfigToJson(task_);
  // task_change.h: the same task (also as an older coordinator wrote it),
  // or the same task with more rounds.
  auto accept_change = [this](const nlohmann::json& stored) {
    return CheckTaskChange(stored, task_json_);
  };
  bool created = false;
  TACIT_ASSIGN_OR_RETURN(task_id_,
                         store_->UpsertTask(task_.name, task_json_, accept_change, &created));
  if (options_.population < 1) options_.population = task_.SelectedPerRound();
  TACIT_ASSIGN_OR_RETURN(ResumedTask resumed,
                         ResumeTask(task_, *store_, task_id_, options_.population, model_config,
                                    options_.initial_seed));
  for (const std::string& refused : resumed.refused) {
    LogEvent(*log_, spdlog::level::warn, "checkpoint_refused", {{"reason", refused}});
  }
  for (const std::string& warning : resumed.warnings) {
    LogEvent(*log_, spdlog::level::warn, "resume_warning", {{"warning", warning}});
  }
  model_ = std::move(resumed.model);
  last_evaluation_ = resumed.last_evaluation;
  if (last_evaluation_) metrics_.Evaluation(*last_evaluation_);
  next_round_ = model_->version() + 1;
  if (options_.max_message_bytes <= 0) {
    options_.max_message_bytes =
        static_cast<int64_t>(model_->parameters().size()) * 8 + (int64_t{4} << 20);
  }
  // The noise share depends on the task only (min_survivors), not on who
  // is selected, so clients learn it at check-in and train at once.
  std::vector<uint32_t> full_cohort(task_.SelectedPerRound());
  for (size_t i = 0; i < full_cohort.size(); ++i) full_cohort[i] = static_cast<uint32_t>(i + 1);
  TACIT_ASSIGN_OR_RETURN(RoundPlan nominal,
                         PlanRound(task_, 0, full_cohort, model_->parameters().size()));
  rules_ = AttemptRules{task_, model_->parameters().size(), nominal.noise_stddev,
                        options_.identity_verifier};
  committer_ = std::make_unique<RoundCommitter>(store_.get(), task_id_, options_.population, log_);
  TACIT_RETURN_IF_ERROR(publisher_->Publish(model_->version(), model_->parameters()));
  metrics_.ModelVersion(model_->version());
  metrics_.Epsilon(model_->epsilon(), DpSamplingName(task_.dp.sampling));
  LogEvent(*log_, spdlog::level::info, created ? "task_started" : "task_resumed",
           {{"task", task_.name},
            {"model_version", model_->version()},
            {"next_round", next_round_},
            {"rounds", task_.rounds},
            {"abandoned_on_open", store_->abandoned_on_open()},
            {"parameters", model_->parameters().size()}});
  return OpenRound(now);
}

CoordinatorStatus TaskRounds::Status() const {
  CoordinatorStatus s;
  s.task = task_.name;
  s.rounds = task_.rounds;
  s.model_version = model_->version();
  s.epsilon = model_->epsilon();
  s.dp = task_.dp;
  s.server_optimizer = ServerOptimizerName(task_.server_optimizer.type);
  s.server_lr = model_->optimizer().current_lr();
  s.done = done_;
  if (current_) {
    const RoundAttempt& a = *current_;
    s.open_round = OpenRoundStatus{a.record().round_number,
                                   a.record().id,
                                   a.record().attempt,
                                   a.StageName(),
                                   static_cast<int>(a.seats().size()),
                                   a.seats().dropped()};
  }
  s.last_round = last_round_;
  s.last_evaluation = last_evaluation_;
  return s;
}

// The attempt a request names: the open one or a recently finished one.
absl::StatusOr<RoundAttempt*> TaskRounds::Find(uint64_t round_id) {
  if (current_ && current_->round_id() == round_id) return current_.get();
  if (auto it = recent_.find(round_id); it != recent_.end()) return it->second.get();
  return Refusal("unknown_round",
                 absl::FailedPreconditionError(absl::StrCat(
                     "round ", round_id,
                     " is unknown (finished long ago or before a coordinator restart); "
                     "check in again")));
}

// Counts and logs a refused message; returns it for the caller.
absl::Status TaskRounds::Refused(absl::Status status) {
  const std::string reason = RefusalReason(status);
  metrics_.Rejected(reason);
  LogEvent(*log_, spdlog::level::warn, "message_rejected",
           {{"reason", reason}, {"error", std::string(status.message())}});
  return status;
}

void TaskRounds::Assign(const Seat& seat, const v1::CheckInRequest& request,
                        v1::CheckInResponse* response) {
  const RoundAttempt& a = *current_;
  v1::Assignment* out = response->mutable_assignment();
  out->set_session(seat.session);
  out->set_round_id(a.round_id());
  out->set_round_number(a.record().round_number);
  out->set_client_id(seat.client_id);
  out->set_model_version(model_->version());
  out->set_layout_hash(publisher_->layout_hash());
  out->set_model_bytes(static_cast<int64_t>(publisher_->current().bytes->size()));
  out->set_download_required(request.model_version() != model_->version() ||
                             request.layout_hash() != publisher_->layout_hash());
  *out->mutable_task() = TaskToProto(task_);
  out->set_noise_stddev(rules_.noise_stddev);
  out->set_train_seconds(task_.deadlines.download_train);
  metrics_.CheckIn("assigned");
}

// Acts on what a call did to the open attempt; true when a long-poll may
// have something new.
bool TaskRounds::Act(const AttemptEvent& event, SteadyClock::time_point now) {
  RoundAttempt& a = *current_;
  // Which device left, where and why (a laptop that declines, e.g. without
  // training data, goes silent in advertise_keys), not only the counts.
  for (const Seat& seat : a.TakeNewDrops()) {
    LogEvent(*log_, spdlog::level::warn, "client_dropped",
             {{"round", a.record().round_number},
              {"round_id", a.record().id},
              {"device", seat.device},
              {"client_id", seat.client_id},
              {"phase", seat.drop_phase},
              {"reason", seat.drop_reason == "deadline"
                             ? "no reply before the phase deadline (declined, failed or lost)"
                             : seat.drop_reason}});
  }
  if (!event.waiting.empty()) {
    LogEvent(
        *log_, spdlog::level::info, "selection_waiting",
        {{"round", a.record().round_number}, {"seated", a.seats().size()}, {"why", event.waiting}});
  }
  if (!event.changed()) return false;
  // An attempt abandoned before its cohort was fixed has no phase timing.
  if (event.kind != AttemptEvent::Kind::kAbandoned || event.ended != "selection") {
    metrics_.StageEnded(event.ended, event.ended_seconds);
  }
  switch (event.kind) {
    case AttemptEvent::Kind::kSelectionClosed:
      LogIfError("participants_not_recorded",
                 committer_->RecordParticipants(a.record(), a.SelectedRecords()));
      LogEvent(*log_, spdlog::level::info, "round_started",
               {{"round", a.record().round_number},
                {"round_id", a.record().id},
                {"cohort", a.seats().size()},
                {"plan", a.plan() ? a.plan()->Describe() : std::string()}});
      break;
    case AttemptEvent::Kind::kPhaseStarted:
      LogEvent(*log_, spdlog::level::info, "phase_started",
               {{"round", a.record().round_number},
                {"phase", a.StageName()},
                {"clients", a.messages_waiting()},
                {"previous_seconds", event.ended_seconds}});
      break;
    case AttemptEvent::Kind::kAggregated:
      CommitAggregated(now);
      break;
    case AttemptEvent::Kind::kAbandoned:
      Abandoned(now);
      break;
    case AttemptEvent::Kind::kNone:
      break;
  }
  return true;
}

void TaskRounds::CommitAggregated(SteadyClock::time_point now) {
  RoundAttempt& a = *current_;
  std::optional<RoundAggregate> aggregate = a.TakeAggregate();
  absl::StatusOr<RoundSummary> committed =
      aggregate ? committer_->Commit(*model_, a.record(), *aggregate, a.Summary(now))
                : absl::InternalError("the attempt aggregated but holds no sum");
  if (!committed.ok()) {
    a.Abandon(std::string(committed.status().message()), now);
    Abandoned(now);
    return;
  }
  a.Committed(now);
  LogIfError("participants_not_recorded",
             committer_->RecordParticipants(a.record(), a.OutcomeRecords()));
  LogIfError("model_encode_failed", publisher_->Publish(model_->version(), model_->parameters()));
  metrics_.ModelVersion(model_->version());
  metrics_.Epsilon(model_->epsilon(), DpSamplingName(task_.dp.sampling));
  metrics_.RoundEnded(*committed);
  if (committed->evaluation && committed->evaluation->evaluation.sums.predictions > 0) {
    last_evaluation_ = committed->evaluation;
  }
  last_round_ = *committed;
  LogEvent(*log_, spdlog::level::info, "round_committed",
           {{"round", a.record().round_number},
            {"round_id", a.record().id},
            {"model_version", model_->version()},
            {"metrics", RoundMetricsJson(*committed)}});
  ++next_round_;
  Finish(now);
}

// The open attempt was abandoned: record it and open the next attempt.
void TaskRounds::Abandoned(SteadyClock::time_point now) {
  RoundAttempt& a = *current_;
  RoundSummary summary = a.Summary(now);
  summary.epsilon = model_->epsilon();
  LogIfError("abandon_not_recorded", committer_->Abandon(a.record(), a.reason()));
  LogIfError("participants_not_recorded",
             committer_->RecordParticipants(a.record(), a.OutcomeRecords()));
  metrics_.RoundEnded(summary);
  last_round_ = summary;
  LogEvent(
      *log_, spdlog::level::warn, "round_abandoned",
      {{"round", a.record().round_number}, {"round_id", a.record().id}, {"reason", a.reason()}});
  Finish(now);
}

absl::Status TaskRounds::OpenRound(SteadyClock::time_point now) {
  if (next_round_ > task_.rounds) {
    done_ = true;
    LogEvent(*log_, spdlog::level::info, "task_complete",
             {{"task", task_.name}, {"model_version", model_->version()}});
    return absl::OkStatus();
  }
  TACIT_ASSIGN_OR_RETURN(RoundRecord record, store_->BeginRound(task_id_, next_round_));
  current_ = std::make_unique<RoundAttempt>(&rules_, record, now, options_.sessions);
  metrics_.RoundOpened(next_round_);
  LogEvent(*log_, spdlog::level::info, "round_opened",
           {{"round", record.round_number},
            {"round_id", record.id},
            {"attempt", record.attempt},
            {"select", task_.SelectedPerRound()}});
  return absl::OkStatus();
}

// The attempt moves to the recent list (for late RoundResult calls) and
// the next attempt opens.
void TaskRounds::Finish(SteadyClock::time_point now) {
  const uint64_t id = current_->round_id();
  recent_[id] = std::move(current_);
  while (recent_.size() > kRecentAttempts) recent_.erase(recent_.begin());
  LogIfError("round_open_failed", OpenRound(now));
}

void TaskRounds::LogIfError(const char* event, const absl::Status& status) {
  if (!status.ok()) {
    LogEvent(*log_, spdlog::level::err, event, {{"error", std::string(status.message())}});
  }
}

bool TaskRounds::Tick(SteadyClock::time_point now) {
  if (!current_) {
    if (done_) return false;
    absl::Status opened = OpenRound(now);
    LogIfError("round_open_failed", opened);
    return opened.ok();
  }
  return Act(current_->Advance(now), now);
}

bool TaskRounds::Expire(SteadyClock::time_point now) {
  return current_ ? Act(current_->Expire(now), now) : false;
}

}  // namespace tacit::coordinator
