#include "coordinator/service/round_orchestrator.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/structured_log.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "task/task_model.h"
#include "task/task_proto.h"

namespace tacit::coordinator {
namespace {

// Every client weighs the same (weight 1, capped at 1): the mean is over
// people, which is also what a user-level DP guarantee needs.
constexpr double kMaxWeight = 1.0;
constexpr size_t kSessionBytes = 16;
constexpr size_t kRecentAttempts = 4;  // finished rounds kept for late RoundResult calls

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }
SteadyClock::duration FromSeconds(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

absl::StatusOr<std::string> NewSession() {
  std::string session(kSessionBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(session.data()), kSessionBytes) != 1) {
    return absl::InternalError("RAND_bytes failed to draw a session token");
  }
  return session;
}

// One selected device's seat in one round attempt.
struct Seat {
  std::string device;
  uint32_t client_id = 0;
  std::string session;
  bool out = false;         // dropped or rejected: no more messages for it
  std::string drop_phase;   // where it left
  std::string drop_reason;  // why
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
};

struct Attempt {
  RoundRecord record;
  std::vector<Seat> seats;
  std::map<std::string, size_t> by_device;
  SteadyClock::time_point opened;
  SteadyClock::time_point phase_started;
  SteadyClock::time_point deadline;  // of selection, then of the open phase
  std::optional<RoundPlan> plan;
  std::unique_ptr<SecureRound> secure;
  int step = -1;  // the outbox's step (= aggregation phase index); -1 while selecting
  std::map<uint32_t, v1::SecAggServerToClient> outbox;
  std::array<double, kAggregationPhases> phase_seconds{};
  bool waiting_logged = false;
  // Set when the attempt ended.
  v1::RoundResultResponse::Outcome outcome = v1::RoundResultResponse::PENDING;
  std::string reason;
  int survivors = 0;
  std::set<uint32_t> included;
  int64_t version_after = 0;

  bool selecting() const { return step < 0 && outcome == v1::RoundResultResponse::PENDING; }
  Seat* SeatOf(uint32_t client_id) {
    return client_id >= 1 && client_id <= seats.size() ? &seats[client_id - 1] : nullptr;
  }
};

struct ServiceMetrics {
  Family<Counter>* rounds = nullptr;     // by outcome
  Family<Counter>* check_ins = nullptr;  // by result
  Family<Counter>* rejected = nullptr;   // by reason
  Family<Histogram>* phase_seconds = nullptr;
  Family<Gauge>* model_version = nullptr;
  Family<Gauge>* round_number = nullptr;
  Family<Gauge>* seats = nullptr;
  Family<Counter>* bytes = nullptr;  // by direction
  // Federated evaluation of the last committed round (the model its cohort
  // downloaded): cohort sums only, decoded from the secure sum.
  Family<Gauge>* eval_accuracy = nullptr;  // by k (1, 3)
  Family<Gauge>* eval_loss = nullptr;
  Family<Gauge>* eval_predictions = nullptr;
  Family<Gauge>* eval_clients = nullptr;
  Family<Gauge>* eval_model_version = nullptr;

  static absl::StatusOr<ServiceMetrics> Register(MetricsRegistry& registry) {
    ServiceMetrics m;
    TACIT_ASSIGN_OR_RETURN(m.rounds, registry.AddCounter("tacit_rounds_total",
                                                         "Round attempts by outcome", {"outcome"}));
    TACIT_ASSIGN_OR_RETURN(m.check_ins, registry.AddCounter("tacit_check_ins_total",
                                                            "Check-ins by result", {"result"}));
    TACIT_ASSIGN_OR_RETURN(m.rejected,
                           registry.AddCounter("tacit_rejected_messages_total",
                                               "Client messages rejected, by reason", {"reason"}));
    TACIT_ASSIGN_OR_RETURN(
        m.phase_seconds,
        registry.AddHistogram("tacit_phase_seconds", "Wall time of each round phase",
                              MetricsRegistry::LatencyBuckets(), {"phase"}));
    TACIT_ASSIGN_OR_RETURN(m.model_version,
                           registry.AddGauge("tacit_model_version", "Global model version"));
    TACIT_ASSIGN_OR_RETURN(m.round_number,
                           registry.AddGauge("tacit_round_number", "Round being run"));
    TACIT_ASSIGN_OR_RETURN(
        m.seats, registry.AddGauge("tacit_round_seats", "Devices seated in the open round"));
    TACIT_ASSIGN_OR_RETURN(m.bytes, registry.AddCounter("tacit_secagg_bytes_total",
                                                        "Secure aggregation bytes", {"direction"}));
    TACIT_ASSIGN_OR_RETURN(
        m.eval_accuracy,
        registry.AddGauge("tacit_eval_accuracy",
                          "Federated top-k next-event accuracy of the last evaluated model",
                          {"k"}));
    TACIT_ASSIGN_OR_RETURN(
        m.eval_loss,
        registry.AddGauge("tacit_eval_loss", "Federated mean held-out loss (nats) of that model"));
    TACIT_ASSIGN_OR_RETURN(
        m.eval_predictions,
        registry.AddGauge("tacit_eval_predictions", "Held-out predictions behind that accuracy"));
    TACIT_ASSIGN_OR_RETURN(
        m.eval_clients,
        registry.AddGauge("tacit_eval_clients", "Clients whose held-out counts are in that sum"));
    TACIT_ASSIGN_OR_RETURN(
        m.eval_model_version,
        registry.AddGauge("tacit_eval_model_version", "Model version that evaluation scored"));
    return m;
  }
};

}  // namespace

class RoundOrchestrator::Impl {
 public:
  Impl(TaskConfig task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
       ServiceMetrics metrics, std::shared_ptr<spdlog::logger> logger)
      : task_(std::move(task)),
        store_(std::move(store)),
        options_(options),
        metrics_(metrics),
        log_(std::move(logger)) {}

  absl::Status Initialize(SteadyClock::time_point now) {
    TACIT_ASSIGN_OR_RETURN(model_config_, ResolveTaskModel(task_));
    TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(model_config_));
    layout_hash_ = layout.hash;
    task_json_ = TaskConfigToJson(task_);
    // A config stored by an older coordinator lacks the sections added since;
    // with their defaults filled in it may still be exactly this task.
    auto same_task = [this](const nlohmann::json& stored) {
      absl::StatusOr<TaskConfig> parsed = ParseTaskConfig(stored);
      return parsed.ok() && TaskConfigToJson(*parsed) == task_json_;
    };
    TACIT_ASSIGN_OR_RETURN(task_id_, store_->UpsertTask(task_.name, task_json_, same_task));
    if (options_.population < 1) options_.population = task_.SelectedPerRound();
    TACIT_ASSIGN_OR_RETURN(ResumePoint resume, store_->Resume(task_id_));
    for (const std::string& refused : resume.refused) {
      LogEvent(*log_, spdlog::level::warn, "checkpoint_refused", {{"reason", refused}});
    }
    if (resume.checkpoint) {
      std::vector<int> cohorts;
      TACIT_ASSIGN_OR_RETURN(std::vector<RoundRecord> rounds, store_->Rounds(task_id_));
      std::sort(rounds.begin(), rounds.end(), [](const RoundRecord& a, const RoundRecord& b) {
        return a.round_number < b.round_number;
      });
      for (const RoundRecord& r : rounds) {
        if (r.status != RoundStatus::kCommitted || r.round_number > resume.checkpoint->version) {
          continue;
        }
        cohorts.push_back(r.metrics.value("cohort_size", task_.SelectedPerRound()));
        if (r.metrics.contains("evaluation")) ShowEvaluation(r.metrics["evaluation"]);
      }
      TACIT_ASSIGN_OR_RETURN(
          GlobalModel model,
          GlobalModel::Restore(task_, resume.checkpoint->model, resume.checkpoint->version,
                               resume.checkpoint->optimizer_state, options_.population, cohorts));
      model_ = std::make_unique<GlobalModel>(std::move(model));
    } else {
      TACIT_ASSIGN_OR_RETURN(std::vector<float> initial,
                             InitialParameters(model_config_, options_.initial_seed));
      TACIT_ASSIGN_OR_RETURN(GlobalModel model,
                             GlobalModel::Create(task_, std::move(initial), options_.population));
      model_ = std::make_unique<GlobalModel>(std::move(model));
      Checkpoint initial_checkpoint{task_id_, 0, model_->parameters(),
                                    model_->optimizer().SerializeState()};
      TACIT_RETURN_IF_ERROR(store_->CommitInitialModel(initial_checkpoint).status());
    }
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
    noise_stddev_ = nominal.noise_stddev;
    TACIT_RETURN_IF_ERROR(EncodeModel());
    metrics_.model_version->With({}).Set(static_cast<double>(model_->version()));
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
    auto retry = [&](double seconds, const std::string& reason, const char* label) {
      response.mutable_retry_after()->set_seconds(seconds);
      response.mutable_retry_after()->set_reason(reason);
      metrics_.check_ins->With({label}).Increment();
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
    if (!current_)
      return retry(5, "no round is open (the coordinator is failing to open one)", "no_round");
    Attempt& a = *current_;
    auto seated = a.by_device.find(device);
    if (seated != a.by_device.end()) {
      if (a.selecting()) return AssignmentFor(a, a.seats[seated->second], request, &response);
      return retry(RemainingSeconds(a, now),
                   "already in the running round and its state is lost; rejoin the next round",
                   "running");
    }
    if (!a.selecting()) {
      return retry(std::max(1.0, RemainingSeconds(a, now)),
                   absl::StrCat("round ", a.record.round_number, " is running; rejoin the next"),
                   "running");
    }
    if (!request.state().eligible() || request.state().training_paused()) {
      return retry(task_.deadlines.check_in,
                   absl::StrCat("ineligible: ", request.state().training_paused()
                                                    ? "training paused by the owner"
                                                    : request.state().ineligible_reason()),
                   "ineligible");
    }
    if (static_cast<int>(a.seats.size()) >= task_.SelectedPerRound()) {
      return retry(RemainingSeconds(a, now), "cohort full", "cohort_full");
    }
    absl::StatusOr<std::string> session = NewSession();
    if (!session.ok()) return retry(5, std::string(session.status().message()), "error");
    Seat seat;
    seat.device = device;
    seat.client_id = static_cast<uint32_t>(a.seats.size() + 1);
    seat.session = *std::move(session);
    a.by_device[device] = a.seats.size();
    a.seats.push_back(std::move(seat));
    metrics_.seats->With({}).Set(static_cast<double>(a.seats.size()));
    AssignmentFor(a, a.seats.back(), request, &response);
    if (static_cast<int>(a.seats.size()) >= task_.SelectedPerRound()) {
      *changed = CloseSelection(now);
    }
    return response;
  }

  absl::StatusOr<ModelDownload> Download(const std::string& device,
                                         const v1::DownloadModelRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    TACIT_ASSIGN_OR_RETURN(Located at, Locate(device, request.session(), request.round_id()));
    (void)at;
    if (request.model_version() != download_.version) {
      return Reject("stale_download", absl::FailedPreconditionError(
                                          absl::StrCat("model version ", request.model_version(),
                                                       " is not served; the current version is ",
                                                       download_.version, ": check in again")));
    }
    if (request.offset() < 0 || request.offset() > static_cast<int64_t>(download_.bytes->size())) {
      return Reject("bad_offset", absl::OutOfRangeError(absl::StrCat(
                                      "download offset ", request.offset(), " is outside the ",
                                      download_.bytes->size(), "-byte model file")));
    }
    return download_;
  }

  absl::Status Submit(const std::string& device, const v1::SubmitRequest& request,
                      SteadyClock::time_point now, bool* changed) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t size = request.ByteSizeLong();
    if (static_cast<int64_t>(size) > options_.max_message_bytes) {
      return Reject("too_large", absl::InvalidArgumentError(absl::StrCat(
                                     "message of ", size, " bytes exceeds the limit of ",
                                     options_.max_message_bytes, " bytes for this task")));
    }
    TACIT_ASSIGN_OR_RETURN(Located at, Locate(device, request.session(), request.round_id()));
    Attempt& a = *at.attempt;
    if (at.attempt != current_.get() || a.step < 0 || !a.secure) {
      return Reject("out_of_phase",
                    absl::FailedPreconditionError(absl::StrCat(
                        "round ", request.round_id(), " is not in a secure aggregation phase")));
    }
    if (at.seat->out) {
      return Reject("dropped",
                    absl::FailedPreconditionError(absl::StrCat(
                        "client ", at.seat->client_id, " left round ", request.round_id(), " (",
                        at.seat->drop_reason, "); rejoin the next round")));
    }
    if (request.message().round_id() != request.round_id()) {
      return Reject("round_mismatch",
                    absl::PermissionDeniedError(absl::StrCat(
                        "the secure aggregation message names round ", request.message().round_id(),
                        " but the request round ", request.round_id())));
    }
    absl::Status received = a.secure->Receive(at.seat->client_id, request.message());
    if (!received.ok()) {
      return Reject(absl::StatusCodeToString(received.code()),
                    absl::Status(received.code(),
                                 absl::StrCat("round ", request.round_id(), " client ",
                                              at.seat->client_id, ": ", received.message())));
    }
    at.seat->bytes_up += static_cast<int64_t>(size);
    metrics_.bytes->With({"up"}).Increment(static_cast<double>(size));
    // A client that answered has its message for this step: drop it now
    // rather than at the phase end. The share deliveries of a degree-312
    // round are ~60 MiB at 1,000 clients and would otherwise be held through
    // the whole masked-input phase.
    a.outbox.erase(at.seat->client_id);
    if (a.secure->PendingClients().empty()) *changed = EndPhase(now);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<v1::NextMessageResponse>> TryNextMessage(
      const std::string& device, const v1::NextMessageRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    TACIT_ASSIGN_OR_RETURN(Located at, Locate(device, request.session(), request.round_id()));
    Attempt& a = *at.attempt;
    Seat& seat = *at.seat;
    v1::NextMessageResponse response;
    if (request.step() >= static_cast<uint32_t>(kAggregationPhases)) {
      return Reject("bad_step", absl::InvalidArgumentError(
                                    absl::StrCat("step ", request.step(), " does not exist (0..",
                                                 kAggregationPhases - 1, ")")));
    }
    const int step = static_cast<int>(request.step());
    if (seat.out) {
      response.set_round_over(
          absl::StrCat("left the round in ", seat.drop_phase, ": ", seat.drop_reason));
      return response;
    }
    if (a.outcome != v1::RoundResultResponse::PENDING) {
      response.set_round_over(absl::StrCat("the round ended: ", a.reason));
      return response;
    }
    if (step > a.step) return std::optional<v1::NextMessageResponse>();  // not yet
    if (step < a.step) {
      response.set_round_over(
          absl::StrCat("step ", step, " is over; the round is at step ", a.step));
      return response;
    }
    auto message = a.outbox.find(seat.client_id);
    if (message == a.outbox.end()) {
      response.set_round_over("no message for this client in this step");
      return response;
    }
    *response.mutable_message() = message->second;
    const int64_t bytes = static_cast<int64_t>(message->second.ByteSizeLong());
    seat.bytes_down += bytes;
    metrics_.bytes->With({"down"}).Increment(static_cast<double>(bytes));
    return response;
  }

  absl::StatusOr<std::optional<v1::RoundResultResponse>> TryRoundResult(
      const std::string& device, const v1::RoundResultRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    TACIT_ASSIGN_OR_RETURN(Located at, Locate(device, request.session(), request.round_id()));
    const Attempt& a = *at.attempt;
    if (a.outcome == v1::RoundResultResponse::PENDING) {
      return std::optional<v1::RoundResultResponse>();
    }
    v1::RoundResultResponse response;
    response.set_outcome(a.outcome);
    response.set_model_version(a.version_after);
    response.set_survivors(a.survivors);
    response.set_included(a.included.count(at.seat->client_id) > 0);
    response.set_reason(a.reason);
    return response;
  }

  bool Tick(SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!current_) {
      if (done_) return false;
      absl::Status opened = OpenRound(now);
      if (!opened.ok()) {
        LogEvent(*log_, spdlog::level::err, "round_open_failed",
                 {{"error", std::string(opened.message())}});
      }
      return opened.ok();
    }
    Attempt& a = *current_;
    if (a.selecting()) {
      if (now < a.deadline || a.seats.empty()) return false;
      return CloseSelection(now);
    }
    if (now >= a.deadline) return EndPhase(now);
    return false;
  }

  bool ExpireDeadline(SteadyClock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!current_) return false;
    Attempt& a = *current_;
    if (a.selecting()) return !a.seats.empty() && CloseSelection(now);
    return EndPhase(now);
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

  nlohmann::json StatusJson() const {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json s;
    s["task"] = task_.name;
    s["rounds"] = task_.rounds;
    s["model_version"] = model_->version();
    s["epsilon"] = model_->epsilon();
    s["server_optimizer"] = ServerOptimizerName(task_.server_optimizer.type);
    s["server_lr"] = model_->optimizer().current_lr();  // decays with lr_half_life_rounds
    s["done"] = done_;
    if (current_) {
      const Attempt& a = *current_;
      s["round"] = a.record.round_number;
      s["round_id"] = a.record.id;
      s["attempt"] = a.record.attempt;
      s["phase"] = a.selecting() ? "selecting" : AggregationPhaseName(a.step);
      s["participants"] = a.seats.size();
      int out = 0;
      for (const Seat& seat : a.seats) out += seat.out;
      s["dropped"] = out;
    } else {
      s["phase"] = done_ ? "done" : "idle";
    }
    s["last_round"] = last_round_;
    s["last_evaluation"] = last_evaluation_;
    return s;
  }

 private:
  struct Located {
    Attempt* attempt;
    Seat* seat;
  };

  // The attempt and seat a request names, checked against the TLS peer.
  absl::StatusOr<Located> Locate(const std::string& device, const std::string& session,
                                 uint64_t round_id) {
    Attempt* attempt = nullptr;
    if (current_ && static_cast<uint64_t>(current_->record.id) == round_id) {
      attempt = current_.get();
    } else if (auto it = recent_.find(round_id); it != recent_.end()) {
      attempt = it->second.get();
    }
    if (attempt == nullptr) {
      return Reject("unknown_round",
                    absl::FailedPreconditionError(absl::StrCat(
                        "round ", round_id,
                        " is unknown (finished long ago or before a coordinator restart); "
                        "check in again")));
    }
    auto seat = attempt->by_device.find(device);
    if (seat == attempt->by_device.end()) {
      return Reject("not_seated", absl::PermissionDeniedError(absl::StrCat(
                                      "device '", device, "' holds no seat in round ", round_id)));
    }
    Seat& s = attempt->seats[seat->second];
    if (session.size() != s.session.size() ||
        CRYPTO_memcmp(session.data(), s.session.data(), session.size()) != 0) {
      return Reject("bad_session", absl::PermissionDeniedError(absl::StrCat(
                                       "the session does not match device '", device,
                                       "''s seat in round ", round_id, "; check in again")));
    }
    return Located{attempt, &s};
  }

  absl::Status Reject(const std::string& reason, absl::Status status) {
    metrics_.rejected->With({reason}).Increment();
    LogEvent(*log_, spdlog::level::warn, "message_rejected",
             {{"reason", reason}, {"error", std::string(status.message())}});
    return status;
  }

  v1::CheckInResponse AssignmentFor(const Attempt& a, const Seat& seat,
                                    const v1::CheckInRequest& request,
                                    v1::CheckInResponse* response) {
    v1::Assignment* out = response->mutable_assignment();
    out->set_session(seat.session);
    out->set_round_id(static_cast<uint64_t>(a.record.id));
    out->set_round_number(a.record.round_number);
    out->set_client_id(seat.client_id);
    out->set_model_version(model_->version());
    out->set_layout_hash(layout_hash_);
    out->set_model_bytes(static_cast<int64_t>(download_.bytes->size()));
    out->set_download_required(request.model_version() != model_->version() ||
                               request.layout_hash() != layout_hash_);
    *out->mutable_task() = TaskToProto(task_);
    out->set_noise_stddev(noise_stddev_);
    out->set_max_weight(kMaxWeight);
    out->set_train_seconds(task_.deadlines.download_train);
    metrics_.check_ins->With({"assigned"}).Increment();
    return *response;
  }

  double RemainingSeconds(const Attempt& a, SteadyClock::time_point now) const {
    return std::max(1.0, Seconds(a.deadline - now));
  }

  absl::Status EncodeModel() {
    ModelFile file{model_->version(), model_config_, layout_hash_, model_->parameters()};
    TACIT_ASSIGN_OR_RETURN(std::string bytes, EncodeModelFile(file));
    download_.sha256_hex = Sha256Hex(bytes);
    download_.bytes = std::make_shared<const std::string>(std::move(bytes));
    download_.version = model_->version();
    return absl::OkStatus();
  }

  absl::Status OpenRound(SteadyClock::time_point now) {
    if (next_round_ > task_.rounds) {
      done_ = true;
      LogEvent(*log_, spdlog::level::info, "task_complete",
               {{"task", task_.name}, {"model_version", model_->version()}});
      return absl::OkStatus();
    }
    TACIT_ASSIGN_OR_RETURN(RoundRecord record, store_->BeginRound(task_id_, next_round_));
    current_ = std::make_unique<Attempt>();
    current_->record = record;
    current_->opened = now;
    current_->phase_started = now;
    current_->deadline = now + FromSeconds(task_.deadlines.check_in);
    metrics_.round_number->With({}).Set(static_cast<double>(next_round_));
    metrics_.seats->With({}).Set(0);
    LogEvent(*log_, spdlog::level::info, "round_opened",
             {{"round", record.round_number},
              {"round_id", record.id},
              {"attempt", record.attempt},
              {"select", task_.SelectedPerRound()}});
    return absl::OkStatus();
  }

  // Selection ends: plan the round and send every seat its round start.
  bool CloseSelection(SteadyClock::time_point now) {
    Attempt& a = *current_;
    std::vector<uint32_t> cohort;
    for (const Seat& seat : a.seats) cohort.push_back(seat.client_id);
    absl::StatusOr<RoundPlan> plan = PlanRound(task_, static_cast<uint64_t>(a.record.id), cohort,
                                               model_->parameters().size(), kMaxWeight);
    if (!plan.ok()) {
      // Too few devices so far: keep selecting; the seated ones wait.
      if (!a.waiting_logged) {
        LogEvent(*log_, spdlog::level::info, "selection_waiting",
                 {{"round", a.record.round_number},
                  {"seated", a.seats.size()},
                  {"why", std::string(plan.status().message())}});
        a.waiting_logged = true;
      }
      return false;
    }
    if (plan->noise_stddev != noise_stddev_) {
      Abandon(now, "the planned noise share differs from the one announced at check-in");
      return true;
    }
    absl::StatusOr<std::unique_ptr<SecureRound>> secure = SecureRound::Create(*plan);
    absl::StatusOr<std::map<uint32_t, v1::SecAggServerToClient>> start =
        secure.ok() ? (*secure)->Start() : secure.status();
    if (!start.ok()) {
      Abandon(now, absl::StrCat("secure aggregation could not start: ", start.status().message()));
      return true;
    }
    metrics_.phase_seconds->With({"selection"}).Observe(Seconds(now - a.phase_started));
    a.plan = *std::move(plan);
    a.secure = *std::move(secure);
    a.outbox = *std::move(start);
    a.step = 0;
    a.phase_started = now;
    a.deadline = now + FromSeconds(task_.deadlines.download_train + task_.deadlines.advertise);
    std::vector<ParticipantRecord> selected;
    for (const Seat& seat : a.seats) {
      ParticipantRecord record;
      record.device_id = seat.device;
      selected.push_back(std::move(record));
    }
    LogIfError("participants_not_recorded", store_->RecordParticipants(a.record.id, selected));
    LogEvent(*log_, spdlog::level::info, "round_started",
             {{"round", a.record.round_number},
              {"round_id", a.record.id},
              {"cohort", a.seats.size()},
              {"plan", a.plan->Describe()}});
    return true;
  }

  double PhaseDeadline(int phase) const {
    switch (phase) {
      case 1:
        return task_.deadlines.share_keys;
      case 2:
        return task_.deadlines.masked_input;
      default:
        return task_.deadlines.unmasking;
    }
  }

  // Ends the open phase (everyone answered or its deadline passed).
  bool EndPhase(SteadyClock::time_point now) {
    Attempt& a = *current_;
    const int phase = a.step;
    for (uint32_t id : a.secure->PendingClients()) {
      Seat* seat = a.SeatOf(id);
      if (seat != nullptr && !seat->out) {
        seat->out = true;
        seat->drop_phase = AggregationPhaseName(phase);
        seat->drop_reason = "deadline";
      }
    }
    const double seconds = Seconds(now - a.phase_started);
    a.phase_seconds[phase] = seconds;
    metrics_.phase_seconds->With({AggregationPhaseName(phase)}).Observe(seconds);
    absl::StatusOr<SecureRound::Step> step = a.secure->EndPhase();
    if (!step.ok()) {
      Abandon(now, std::string(step.status().message()));
      return true;
    }
    if (step->aggregate) {
      Commit(now, *std::move(step->aggregate));
      return true;
    }
    // Seats with no next message were dropped by the protocol (e.g. a
    // neighbour set below threshold).
    for (Seat& seat : a.seats) {
      if (!seat.out && step->messages.count(seat.client_id) == 0) {
        seat.out = true;
        seat.drop_phase = AggregationPhaseName(phase + 1);
        seat.drop_reason = "excluded by the protocol";
      }
    }
    a.outbox = std::move(step->messages);
    a.step = phase + 1;
    a.phase_started = now;
    a.deadline = now + FromSeconds(PhaseDeadline(a.step));
    LogEvent(*log_, spdlog::level::info, "phase_started",
             {{"round", a.record.round_number},
              {"phase", AggregationPhaseName(a.step)},
              {"clients", a.outbox.size()},
              {"previous_seconds", seconds}});
    return true;
  }

  nlohmann::json RoundMetrics(const Attempt& a, SteadyClock::time_point now) const {
    nlohmann::json m;
    m["cohort_size"] = a.seats.size();
    m["survivors"] = a.survivors;
    if (a.secure) {
      m["dropouts_per_phase"] = a.secure->dropouts_per_phase();
      m["bytes_up"] = a.secure->bytes_received();
      m["bytes_down"] = a.secure->bytes_sent();
    }
    m["phase_seconds"] = a.phase_seconds;
    m["seconds"] = Seconds(now - a.opened);
    m["epsilon"] = model_->epsilon();
    return m;
  }

  void Commit(SteadyClock::time_point now, RoundAggregate aggregate) {
    Attempt& a = *current_;
    absl::Status applied =
        model_->ApplyRound(aggregate.mean_update, static_cast<int>(a.seats.size()));
    if (!applied.ok()) {
      // ApplyRound changes nothing when it refuses.
      Abandon(now, absl::StrCat("the server optimizer refused the update: ", applied.message()));
      return;
    }
    a.survivors = static_cast<int>(aggregate.survivors.size());
    a.included.insert(aggregate.survivors.begin(), aggregate.survivors.end());
    Checkpoint checkpoint{task_id_, model_->version(), model_->parameters(),
                          model_->optimizer().SerializeState()};
    nlohmann::json metrics = RoundMetrics(a, now);
    if (aggregate.evaluation) {
      // The cohort scored the model it downloaded: the version before this round.
      metrics["evaluation"] = FederatedEvaluationJson(*aggregate.evaluation, model_->version() - 1);
    }
    absl::StatusOr<ModelVersionRecord> committed =
        store_->CommitRound(a.record.id, checkpoint, metrics);
    if (!committed.ok()) {
      // The model moved in memory but not on disk: a restart would resume
      // from the previous version, so stop serving rather than diverge.
      LogEvent(
          *log_, spdlog::level::critical, "commit_failed",
          {{"round", a.record.round_number}, {"error", std::string(committed.status().message())}});
      std::abort();
    }
    a.outcome = v1::RoundResultResponse::COMMITTED;
    a.version_after = model_->version();
    RecordOutcomes(a, "completed");
    LogIfError("model_encode_failed", EncodeModel());
    metrics_.rounds->With({"committed"}).Increment();
    metrics_.model_version->With({}).Set(static_cast<double>(model_->version()));
    last_round_ = metrics;
    last_round_["round"] = a.record.round_number;
    last_round_["outcome"] = "committed";
    if (metrics.contains("evaluation")) ShowEvaluation(metrics["evaluation"]);
    LogEvent(*log_, spdlog::level::info, "round_committed",
             {{"round", a.record.round_number},
              {"round_id", a.record.id},
              {"model_version", model_->version()},
              {"metrics", metrics}});
    ++next_round_;
    Finish(now);
  }

  // The latest evaluation with predictions behind it becomes the status's
  // last accuracy and the eval gauges (a round whose clients had no held-out
  // tokens leaves the previous figures standing).
  void ShowEvaluation(const nlohmann::json& evaluation) {
    if (evaluation.value("predictions", int64_t{0}) <= 0) return;
    last_evaluation_ = evaluation;
    metrics_.eval_accuracy->With({"1"}).Set(evaluation.value("top1", 0.0));
    metrics_.eval_accuracy->With({"3"}).Set(evaluation.value("top3", 0.0));
    metrics_.eval_loss->With({}).Set(evaluation.value("loss", 0.0));
    metrics_.eval_predictions->With({}).Set(evaluation.value("predictions", 0.0));
    metrics_.eval_clients->With({}).Set(evaluation.value("clients", 0.0));
    metrics_.eval_model_version->With({}).Set(evaluation.value("model_version", 0.0));
  }

  void Abandon(SteadyClock::time_point now, const std::string& reason) {
    Attempt& a = *current_;
    a.outcome = v1::RoundResultResponse::ABANDONED;
    a.reason = reason;
    a.version_after = model_->version();
    LogIfError("abandon_not_recorded", store_->AbandonRound(a.record.id, reason));
    RecordOutcomes(a, "");
    metrics_.rounds->With({"abandoned"}).Increment();
    last_round_ = RoundMetrics(a, now);
    last_round_["round"] = a.record.round_number;
    last_round_["outcome"] = "abandoned";
    last_round_["reason"] = reason;
    LogEvent(*log_, spdlog::level::warn, "round_abandoned",
             {{"round", a.record.round_number}, {"round_id", a.record.id}, {"reason", reason}});
    Finish(now);
  }

  void RecordOutcomes(const Attempt& a, const std::string& completed) {
    std::vector<ParticipantRecord> records;
    for (const Seat& seat : a.seats) {
      ParticipantRecord r;
      r.device_id = seat.device;
      r.bytes_up = seat.bytes_up;
      r.bytes_down = seat.bytes_down;
      if (a.included.count(seat.client_id) && !seat.out) {
        r.outcome = ParticipantOutcome::kCompleted;
      } else if (a.included.count(seat.client_id)) {
        // Left while unmasking: its update is in the sum, its shares are not.
        r.outcome = ParticipantOutcome::kDropped;
        r.drop_phase = seat.drop_phase;
        r.drop_reason = seat.drop_reason + " (its update is in the sum)";
      } else {
        r.outcome = ParticipantOutcome::kDropped;
        r.drop_phase = seat.out ? seat.drop_phase : AggregationPhaseName(a.step);
        r.drop_reason = seat.out ? seat.drop_reason : "round abandoned: " + a.reason;
      }
      records.push_back(std::move(r));
    }
    LogIfError("participants_not_recorded", store_->RecordParticipants(a.record.id, records));
  }

  // The attempt moves to the recent list (for late RoundResult calls) and
  // the next attempt opens.
  void Finish(SteadyClock::time_point now) {
    current_->secure.reset();
    current_->outbox.clear();
    const uint64_t id = static_cast<uint64_t>(current_->record.id);
    recent_[id] = std::move(current_);
    while (recent_.size() > kRecentAttempts) recent_.erase(recent_.begin());
    absl::Status opened = OpenRound(now);
    if (!opened.ok()) {
      LogEvent(*log_, spdlog::level::err, "round_open_failed",
               {{"error", std::string(opened.message())}});
    }
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
  ::tacit::ModelConfig model_config_;
  std::string layout_hash_;
  nlohmann::json task_json_;
  int64_t task_id_ = 0;
  std::unique_ptr<GlobalModel> model_;
  ModelDownload download_;
  double noise_stddev_ = 0;
  int64_t next_round_ = 1;
  bool done_ = false;
  std::unique_ptr<Attempt> current_;
  std::map<uint64_t, std::unique_ptr<Attempt>> recent_;
  nlohmann::json last_round_ = nlohmann::json::object();
  nlohmann::json last_evaluation_;  // null until a round reports predictions

 public:
  std::mutex on_change_mu_;
  std::function<void()> on_change_;
  const OrchestratorOptions& options() const { return options_; }
};

absl::StatusOr<std::unique_ptr<RoundOrchestrator>> RoundOrchestrator::Create(
    const TaskConfig& task, std::unique_ptr<StateStore> store, OrchestratorOptions options,
    MetricsRegistry* metrics, std::shared_ptr<spdlog::logger> logger) {
  if (!store) return absl::InvalidArgumentError("the orchestrator needs an open state store");
  if (metrics == nullptr || !logger) {
    return absl::InvalidArgumentError("the orchestrator needs a metrics registry and a logger");
  }
  TACIT_ASSIGN_OR_RETURN(ServiceMetrics service_metrics, ServiceMetrics::Register(*metrics));
  auto impl =
      std::make_unique<Impl>(task, std::move(store), options, service_metrics, std::move(logger));
  TACIT_RETURN_IF_ERROR(impl->Initialize(SteadyClock::now()));
  return std::unique_ptr<RoundOrchestrator>(new RoundOrchestrator(std::move(impl)));
}

RoundOrchestrator::RoundOrchestrator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RoundOrchestrator::~RoundOrchestrator() = default;

void RoundOrchestrator::SetOnChange(std::function<void()> on_change) {
  std::lock_guard<std::mutex> lock(impl_->on_change_mu_);
  impl_->on_change_ = std::move(on_change);
}

namespace {
void Notify(RoundOrchestrator::Impl& impl);
}

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

absl::Status RoundOrchestrator::Submit(const std::string& device,
                                       const v1::SubmitRequest& request) {
  bool changed = false;
  absl::Status status = impl_->Submit(device, request, SteadyClock::now(), &changed);
  if (changed) Notify(*impl_);
  return status;
}

absl::StatusOr<std::optional<v1::NextMessageResponse>> RoundOrchestrator::TryNextMessage(
    const std::string& device, const v1::NextMessageRequest& request) {
  return impl_->TryNextMessage(device, request);
}

absl::StatusOr<std::optional<v1::RoundResultResponse>> RoundOrchestrator::TryRoundResult(
    const std::string& device, const v1::RoundResultRequest& request) {
  return impl_->TryRoundResult(device, request);
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
nlohmann::json RoundOrchestrator::StatusJson() const { return impl_->StatusJson(); }

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

}  // namespace tacit::coordinator
