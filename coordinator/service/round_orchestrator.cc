#include "coordinator/service/round_orchestrator.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/round/global_model.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/service/refusal.h"
#include "coordinator/service/round_committer.h"
#include "coordinator/service/service_metrics.h"
#include "coordinator/service/task_model.h"
#include "coordinator/service/task_resume.h"
#include "coordinator/structured_log.h"
#include "models/parameter_layout.h"

namespace tacit::coordinator {
namespace {

// Every client weighs the same (weight 1, capped at 1): the mean is over
// people, which is also what a user-level DP guarantee needs.
constexpr double kMaxWeight = 1.0;
constexpr size_t kRecentAttempts = 4;  // finished rounds kept for late RoundResult calls

}  // namespace

class RoundOrchestrator::Impl {
 public:
  Impl(TaskConfig task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
       ServiceMetrics metrics, std::shared_ptr<spdlog::logger> logger)
      : task_(std::move(task)),
        store_(std::move(store)),
        options_(std::move(options)),
        metrics_(metrics),
        log_(std::move(logger)) {
    if (!options_.sessions) options_.sessions = RandomSessions();
  }

  absl::Status Initialize(SteadyClock::time_point now) {
    TACIT_ASSIGN_OR_RETURN(::tacit::ModelConfig model_config, ResolveTaskModel(task_));
    TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(model_config));
    publisher_ = std::make_unique<ModelPublisher>(model_config, layout.hash);
    task_json_ = TaskConfigToJson(task_);
    // A config stored by an older coordinator lacks the sections added since;
    // with their defaults filled in it may still be exactly this task.
    auto same_task = [this](const nlohmann::json& stored) {
      absl::StatusOr<TaskConfig> parsed = ParseTaskConfig(stored);
      return parsed.ok() && TaskConfigToJson(*parsed) == task_json_;
    };
    TACIT_ASSIGN_OR_RETURN(task_id_, store_->UpsertTask(task_.name, task_json_, same_task));
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
    TACIT_ASSIGN_OR_RETURN(RoundPlan nominal, PlanRound(task_, 0, full_cohort,
                                                        model_->parameters().size(), kMaxWeight));
    rules_ = AttemptRules{task_, model_->parameters().size(), nominal.noise_stddev, kMaxWeight};
    committer_ =
        std::make_unique<RoundCommitter>(store_.get(), task_id_, options_.population, log_);
    TACIT_RETURN_IF_ERROR(publisher_->Publish(model_->version(), model_->parameters()));
    metrics_.ModelVersion(model_->version());
    LogEvent(*log_, spdlog::level::info, "task_resumed",
             {{"task", task_.name},
              {"model_version", model_->version()},
              {"next_round", next_round_},
              {"rounds", task_.rounds},
              {"abandoned_on_open", store_->abandoned_on_open()},
              {"parameters", model_->parameters().size()}});
    return OpenRound(now);
  }

  v1::CheckInResponse CheckIn(const std::string& device, const v1::CheckInRequest& request,
                              SteadyClock::time_point now, bool* changed) {
    std::lock_guard<std::mutex> lock(mu_);
    v1::CheckInResponse response;
    auto retry = [&](double seconds, const std::string& reason, const std::string& label) {
      response.mutable_retry_after()->set_seconds(seconds);
      response.mutable_retry_after()->set_reason(reason);
      metrics_.CheckIn(label);
      return response;
    };
    if (!request.task_name().empty() && request.task_name() != task_.name) {
      return retry(60,
                   absl::StrCat("this coordinator runs task '", task_.name, "', not '",
                                request.task_name(), "'"),
                   "wrong_task");
    }
    if (done_) {
      response.mutable_retry_after()->set_task_complete(true);
      return retry(30, "task complete: every round is committed", "task_complete");
    }
    if (!current_) {
      return retry(5, "no round is open (the coordinator is failing to open one)", "no_round");
    }
    RoundAttempt::CheckInResult result = current_->CheckIn(device, request, now);
    if (result.seat == nullptr)
      return retry(result.retry_seconds, result.retry_reason, result.label);
    metrics_.Seats(current_->seats().size());
    Assign(*current_, *result.seat, request, &response);
    *changed = Handle(result.event, now);
    return response;
  }

  absl::StatusOr<ModelDownload> Download(const std::string& device,
                                         const v1::DownloadModelRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<RoundAttempt*> attempt = Find(request.round_id());
    absl::Status seated =
        attempt.ok() ? (*attempt)->CheckSeat(device, request.session()) : attempt.status();
    if (!seated.ok()) return Counted(seated);
    absl::StatusOr<ModelDownload> download =
        publisher_->Serve(request.model_version(), request.offset());
    if (!download.ok()) return Counted(download.status());
    return download;
  }

  absl::Status Submit(const std::string& device, const v1::SubmitRequest& request,
                      SteadyClock::time_point now, bool* changed) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t size = request.ByteSizeLong();
    if (static_cast<int64_t>(size) > options_.max_message_bytes) {
      return Counted(
          Refusal("too_large", absl::InvalidArgumentError(absl::StrCat(
                                   "message of ", size, " bytes exceeds the limit of ",
                                   options_.max_message_bytes, " bytes for this task"))));
    }
    absl::StatusOr<RoundAttempt*> attempt = Find(request.round_id());
    if (!attempt.ok()) return Counted(attempt.status());
    AttemptEvent event;
    absl::Status submitted = (*attempt)->Submit(device, request, now, &event);
    if (!submitted.ok()) return Counted(submitted);
    metrics_.BytesUp(static_cast<int64_t>(size));
    *changed = Handle(event, now);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<v1::NextMessageResponse>> TryNextMessage(
      const std::string& device, const v1::NextMessageRequest& request,
      SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<RoundAttempt*> attempt = Find(request.round_id());
    if (!attempt.ok()) return Counted(attempt.status());
    int64_t bytes = 0;
    absl::StatusOr<std::optional<v1::NextMessageResponse>> answer =
        (*attempt)->NextMessage(device, request, now, &bytes);
    if (!answer.ok()) return Counted(answer.status());
    if (bytes > 0) metrics_.BytesDown(bytes);
    return answer;
  }

  absl::StatusOr<std::optional<v1::RoundResultResponse>> TryRoundResult(
      const std::string& device, const v1::RoundResultRequest& request,
      SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<RoundAttempt*> attempt = Find(request.round_id());
    if (!attempt.ok()) return Counted(attempt.status());
    absl::StatusOr<std::optional<v1::RoundResultResponse>> answer =
        (*attempt)->RoundResult(device, request, now);
    if (!answer.ok()) return Counted(answer.status());
    return answer;
  }

  bool Tick(SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!current_) {
      if (done_) return false;
      absl::Status opened = OpenRound(now);
      LogIfError("round_open_failed", opened);
      return opened.ok();
    }
    return Handle(current_->Advance(now), now);
  }

  bool ExpireDeadline(SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!current_) return false;
    return Handle(current_->Expire(now), now);
  }

  std::vector<float> global_parameters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return model_->parameters();
  }

  bool done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  int64_t model_version() const {
    std::lock_guard<std::mutex> lock(mu_);
    return model_->version();
  }

  CoordinatorStatus Status() const {
    std::lock_guard<std::mutex> lock(mu_);
    CoordinatorStatus s;
    s.task = task_.name;
    s.rounds = task_.rounds;
    s.model_version = model_->version();
    s.epsilon = model_->epsilon();
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

  std::mutex on_change_mu_;
  std::function<void()> on_change_;

 private:
  // The attempt a request names: the open one or a recently finished one.
  absl::StatusOr<RoundAttempt*> Find(uint64_t round_id) {
    if (current_ && current_->round_id() == round_id) return current_.get();
    if (auto it = recent_.find(round_id); it != recent_.end()) return it->second.get();
    return Refusal("unknown_round",
                   absl::FailedPreconditionError(absl::StrCat(
                       "round ", round_id,
                       " is unknown (finished long ago or before a coordinator restart); "
                       "check in again")));
  }

  // Counts and logs a refused message; returns it for the caller.
  absl::Status Counted(absl::Status status) {
    const std::string reason = RefusalReason(status);
    metrics_.Rejected(reason);
    LogEvent(*log_, spdlog::level::warn, "message_rejected",
             {{"reason", reason}, {"error", std::string(status.message())}});
    return status;
  }

  void Assign(const RoundAttempt& a, const Seat& seat, const v1::CheckInRequest& request,
              v1::CheckInResponse* response) {
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
    out->set_task_json(task_json_.dump());
    out->set_noise_stddev(rules_.noise_stddev);
    out->set_max_weight(kMaxWeight);
    out->set_train_seconds(task_.deadlines.download_train);
    metrics_.CheckIn("assigned");
  }

  // Acts on what a call did to the open attempt; true when a long-poll may
  // have something new.
  bool Handle(const AttemptEvent& event, SteadyClock::time_point now) {
    RoundAttempt& a = *current_;
    if (!event.waiting.empty()) {
      LogEvent(*log_, spdlog::level::info, "selection_waiting",
               {{"round", a.record().round_number},
                {"seated", a.seats().size()},
                {"why", event.waiting}});
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

  void CommitAggregated(SteadyClock::time_point now) {
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
  void Abandoned(SteadyClock::time_point now) {
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

  absl::Status OpenRound(SteadyClock::time_point now) {
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
  void Finish(SteadyClock::time_point now) {
    const uint64_t id = current_->round_id();
    recent_[id] = std::move(current_);
    while (recent_.size() > kRecentAttempts) recent_.erase(recent_.begin());
    LogIfError("round_open_failed", OpenRound(now));
  }

  void LogIfError(const char* event, const absl::Status& status) {
    if (!status.ok()) {
      LogEvent(*log_, spdlog::level::err, event, {{"error", std::string(status.message())}});
    }
  }

  const TaskConfig task_;
  std::unique_ptr<StateStore> store_;
  OrchestratorOptions options_;
  ServiceMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;

  mutable std::mutex mu_;
  nlohmann::json task_json_;
  int64_t task_id_ = 0;
  std::unique_ptr<GlobalModel> model_;
  std::unique_ptr<ModelPublisher> publisher_;
  std::unique_ptr<RoundCommitter> committer_;
  AttemptRules rules_;
  int64_t next_round_ = 1;
  bool done_ = false;
  std::unique_ptr<RoundAttempt> current_;
  std::map<uint64_t, std::unique_ptr<RoundAttempt>> recent_;
  std::optional<RoundSummary> last_round_;
  std::optional<EvaluationReport> last_evaluation_;
};

absl::StatusOr<std::unique_ptr<RoundOrchestrator>> RoundOrchestrator::Create(
    const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
    MetricsRegistry* metrics, std::shared_ptr<spdlog::logger> logger, SteadyClock::time_point now) {
  if (!store) return absl::InvalidArgumentError("the orchestrator needs an open state store");
  if (metrics == nullptr || !logger) {
    return absl::InvalidArgumentError("the orchestrator needs a metrics registry and a logger");
  }
  TACIT_ASSIGN_OR_RETURN(ServiceMetrics service_metrics, ServiceMetrics::Register(*metrics));
  auto impl = std::make_unique<Impl>(task, std::move(store), std::move(options), service_metrics,
                                     std::move(logger));
  TACIT_RETURN_IF_ERROR(impl->Initialize(now));
  return std::unique_ptr<RoundOrchestrator>(new RoundOrchestrator(std::move(impl)));
}

RoundOrchestrator::RoundOrchestrator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RoundOrchestrator::~RoundOrchestrator() = default;

void RoundOrchestrator::SetOnChange(std::function<void()> on_change) {
  std::lock_guard<std::mutex> lock(impl_->on_change_mu_);
  impl_->on_change_ = std::move(on_change);
}

namespace {
void Notify(RoundOrchestrator::Impl& impl) {
  std::function<void()> on_change;
  {
    std::lock_guard<std::mutex> lock(impl.on_change_mu_);
    on_change = impl.on_change_;
  }
  if (on_change) on_change();
}
}  // namespace

v1::CheckInResponse RoundOrchestrator::CheckIn(const std::string& device,
                                               const v1::CheckInRequest& request,
                                               SteadyClock::time_point now) {
  bool changed = false;  // a full cohort closes selection at once
  v1::CheckInResponse response = impl_->CheckIn(device, request, now, &changed);
  if (changed) Notify(*impl_);
  return response;
}

absl::StatusOr<ModelDownload> RoundOrchestrator::Download(const std::string& device,
                                                          const v1::DownloadModelRequest& request) {
  return impl_->Download(device, request);
}

absl::Status RoundOrchestrator::Submit(const std::string& device, const v1::SubmitRequest& request,
                                       SteadyClock::time_point now) {
  bool changed = false;
  absl::Status status = impl_->Submit(device, request, now, &changed);
  if (changed) Notify(*impl_);
  return status;
}

absl::StatusOr<std::optional<v1::NextMessageResponse>> RoundOrchestrator::TryNextMessage(
    const std::string& device, const v1::NextMessageRequest& request, SteadyClock::time_point now) {
  return impl_->TryNextMessage(device, request, now);
}

absl::StatusOr<std::optional<v1::RoundResultResponse>> RoundOrchestrator::TryRoundResult(
    const std::string& device, const v1::RoundResultRequest& request, SteadyClock::time_point now) {
  return impl_->TryRoundResult(device, request, now);
}

void RoundOrchestrator::Tick(SteadyClock::time_point now) {
  if (impl_->Tick(now)) Notify(*impl_);
}

void RoundOrchestrator::ExpireDeadline(SteadyClock::time_point now) {
  if (impl_->ExpireDeadline(now)) Notify(*impl_);
}

std::vector<float> RoundOrchestrator::global_parameters() const {
  return impl_->global_parameters();
}

bool RoundOrchestrator::done() const { return impl_->done(); }
int64_t RoundOrchestrator::model_version() const { return impl_->model_version(); }
CoordinatorStatus RoundOrchestrator::Status() const { return impl_->Status(); }
nlohmann::json RoundOrchestrator::StatusJson() const {
  return ::tacit::coordinator::StatusJson(Status());
}

}  // namespace tacit::coordinator
