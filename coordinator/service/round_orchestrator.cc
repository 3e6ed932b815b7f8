#include "coordinator/service/round_orchestrator.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/service/refusal.h"
#include "coordinator/service/service_metrics.h"

namespace tacit::coordinator {

class RoundOrchestrator::Impl {
 public:
  explicit Impl(std::unique_ptr<TaskRounds> rounds) : rounds_(std::move(rounds)) {}

  v1::CheckInResponse CheckIn(const std::string& device, const v1::CheckInRequest& request,
                              SteadyClock::time_point now, bool* changed) {
    std::lock_guard<std::mutex> lock(mu_);
    v1::CheckInResponse response;
    auto retry = [&](double seconds, const std::string& reason, const std::string& label) {
      response.mutable_retry_after()->set_seconds(seconds);
      response.mutable_retry_after()->set_reason(reason);
      rounds_->metrics().CheckIn(label);
      return response;
    };
    const std::string& task = rounds_->task().name;
    if (!request.task_name().empty() && request.task_name() != task) {
      return retry(
          60,
          absl::StrCat("this coordinator runs task '", task, "', not '", request.task_name(), "'"),
          "wrong_task");
    }
    if (rounds_->done()) {
      response.mutable_retry_after()->set_task_complete(true);
      return retry(30, "task complete: every round is committed", "task_complete");
    }
    RoundAttempt* attempt = rounds_->current();
    if (attempt == nullptr) {
      return retry(5, "no round is open (the coordinator is failing to open one)", "no_round");
    }
    RoundAttempt::CheckInResult result = attempt->CheckIn(device, request, now);
    if (result.seat == nullptr)
      return retry(result.retry_seconds, result.retry_reason, result.label);
    rounds_->metrics().Seats(attempt->seats().size());
    rounds_->Assign(*result.seat, request, &response);
    *changed = rounds_->Act(result.event, now);
    return response;
  }

  absl::StatusOr<ModelDownload> Download(const std::string& device,
                                         const v1::DownloadModelRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<RoundAttempt*> attempt = rounds_->Find(request.round_id());
    absl::Status seated =
        attempt.ok() ? (*attempt)->CheckSeat(device, request.session()) : attempt.status();
    if (!seated.ok()) return rounds_->Refused(seated);
    absl::StatusOr<ModelDownload> download =
        rounds_->publisher().Serve(request.model_version(), request.offset());
    if (!download.ok()) return rounds_->Refused(download.status());
    return download;
  }

  absl::Status Submit(const std::string& device, const v1::SubmitRequest& request,
                      SteadyClock::time_point now, bool* changed) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t size = static_cast<int64_t>(request.ByteSizeLong());
    if (size > rounds_->max_message_bytes()) {
      return rounds_->Refused(
          Refusal("too_large", absl::InvalidArgumentError(absl::StrCat(
                                   "message of ", size, " bytes exceeds the limit of ",
                                   rounds_->max_message_bytes(), " bytes for this task"))));
    }
    absl::StatusOr<RoundAttempt*> attempt = rounds_->Find(request.round_id());
    if (!attempt.ok()) return rounds_->Refused(attempt.status());
    AttemptEvent event;
    absl::Status submitted = (*attempt)->Submit(device, request, now, &event);
    if (!submitted.ok()) return rounds_->Refused(submitted);
    rounds_->metrics().BytesUp(size);
    *changed = rounds_->Act(event, now);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<v1::NextMessageResponse>> TryNextMessage(
      const std::string& device, const v1::NextMessageRequest& request,
      SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<RoundAttempt*> attempt = rounds_->Find(request.round_id());
    if (!attempt.ok()) return rounds_->Refused(attempt.status());
    int64_t bytes = 0;
    absl::StatusOr<std::optional<v1::NextMessageResponse>> answer =
        (*attempt)->NextMessage(device, request, now, &bytes);
    if (!answer.ok()) return rounds_->Refused(answer.status());
    if (bytes > 0) rounds_->metrics().BytesDown(bytes);
    return answer;
  }

  absl::StatusOr<std::optional<v1::RoundResultResponse>> TryRoundResult(
      const std::string& device, const v1::RoundResultRequest& request,
      SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<RoundAttempt*> attempt = rounds_->Find(request.round_id());
    if (!attempt.ok()) return rounds_->Refused(attempt.status());
    absl::StatusOr<std::optional<v1::RoundResultResponse>> answer =
        (*attempt)->RoundResult(device, request, now);
    if (!answer.ok()) return rounds_->Refused(answer.status());
    return answer;
  }

  bool Tick(SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_->Tick(now);
  }

  bool ExpireDeadline(SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_->Expire(now);
  }

  std::vector<float> global_parameters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_->model().parameters();
  }

  bool done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_->done();
  }

  int64_t model_version() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_->model().version();
  }

  CoordinatorStatus Status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_->Status();
  }

  void Notify() {
    std::function<void()> on_change;
    {
      std::lock_guard<std::mutex> lock(on_change_mu_);
      on_change = on_change_;
    }
    if (on_change) on_change();
  }

  std::mutex on_change_mu_;
  std::function<void()> on_change_;

 private:
  mutable std::mutex mu_;
  std::unique_ptr<TaskRounds> rounds_;
};

absl::StatusOr<std::unique_ptr<RoundOrchestrator>> RoundOrchestrator::Create(
    const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
    MetricsRegistry* metrics, std::shared_ptr<spdlog::logger> logger, SteadyClock::time_point now) {
  if (!store) return absl::InvalidArgumentError("the orchestrator needs an open state store");
  if (metrics == nullptr || !logger) {
    return absl::InvalidArgumentError("the orchestrator needs a metrics registry and a logger");
  }
  TACIT_ASSIGN_OR_RETURN(ServiceMetrics service_metrics, ServiceMetrics::Register(*metrics));
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<TaskRounds> rounds,
                         TaskRounds::Create(task, std::move(store), std::move(options),
                                            service_metrics, std::move(logger), now));
  return std::unique_ptr<RoundOrchestrator>(
      new RoundOrchestrator(std::make_unique<Impl>(std::move(rounds))));
}

RoundOrchestrator::RoundOrchestrator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RoundOrchestrator::~RoundOrchestrator() = default;

void RoundOrchestrator::SetOnChange(std::function<void()> on_change) {
  std::lock_guard<std::mutex> lock(impl_->on_change_mu_);
  impl_->on_change_ = std::move(on_change);
}

v1::CheckInResponse RoundOrchestrator::CheckIn(const std::string& device,
                                               const v1::CheckInRequest& request,
                                               SteadyClock::time_point now) {
  bool changed = false;  // a full cohort closes selection at once
  v1::CheckInResponse response = impl_->CheckIn(device, request, now, &changed);
  if (changed) impl_->Notify();
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
  if (changed) impl_->Notify();
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
  if (impl_->Tick(now)) impl_->Notify();
}

void RoundOrchestrator::ExpireDeadline(SteadyClock::time_point now) {
  if (impl_->ExpireDeadline(now)) impl_->Notify();
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
