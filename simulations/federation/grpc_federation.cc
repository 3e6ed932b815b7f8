#include "simulations/federation/grpc_federation.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/fleet_channel.h"
#include "client/runtime/model_cache.h"
#include "client/runtime/round_runner.h"
#include "common/counting_semaphore.h"
#include "common/file_io.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "coordinator/pki.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/round/secure_round.h"
#include "coordinator/service/coordinator_server.h"
#include "coordinator/structured_log.h"
#include "models/parameter_layout.h"
#include "secure_agg/phase.h"
#include "simulations/federation/derived_seeds.h"
#include "spdlog/sinks/basic_file_sink.h"

namespace tacit::sim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The name the server certificate carries and clients expect.
constexpr const char* kServerName = "localhost";

using Gate = CountingSemaphore;

// How far a client's round has got, from the runner's phase reports:
// kStarted while downloading and training, 0..3 once it asks for step k's
// message (so it answered step k-1), 4 waiting for the result, kFinished.
constexpr int kStarted = -1;
constexpr int kAwaitingResult = 4;
constexpr int kFinished = 5;

// The runner reports "..., waiting for <step>" before asking for a step's
// message (round_runner.h) and "awaiting result" after the last answer.
int ReachedOf(const std::string& progress) {
  if (progress == "awaiting result") return kAwaitingResult;
  static const std::string kWaitingFor = "waiting for ";
  const size_t at = progress.rfind(kWaitingFor);
  if (at == std::string::npos) return kStarted;
  const std::string step_name = progress.substr(at + kWaitingFor.size());
  const std::optional<secagg::Phase> phase = secagg::PhaseFromName(step_name);
  return phase ? secagg::PhaseIndex(*phase) : kStarted;
}

// The coordinator's open step: -1 while selecting, 0..3 in a phase.
int CoordinatorStep(const nlohmann::json& status) {
  const std::optional<secagg::Phase> phase = secagg::PhaseFromName(status.value("phase", ""));
  return phase ? secagg::PhaseIndex(*phase) : -1;
}

// A seated client during one round.
struct Seated {
  SimulatedSeat seat;
  std::string device;
  std::string dir;
  std::unique_ptr<v1::Federation::Stub> stub;
  v1::Assignment assignment;
  std::atomic<int> reached{kStarted};
  bool holds_permit = false;  // touched by its own task only
  runtime::AuditEntry audit;
  double train_seconds = 0, train_loss = 0;
  bool trained = false;
};

}  // namespace

class GrpcFederation::Impl {
 public:
  Impl(const ExperimentConfig& config, const std::vector<PersonTokens>& people, std::string folder)
      : config_(config), people_(people), folder_(std::move(folder)) {}

  absl::Status Start() {
    std::error_code error;
    fs::create_directories(folder_ + "/clients", error);
    if (error) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", folder_, "/clients: ", error.message()));
    }
    pki_ = folder_ + "/pki";
    TACIT_RETURN_IF_ERROR(coordinator::InitPkiFolder(pki_, {kServerName, "127.0.0.1"}));
    coordinator::CoordinatorServerConfig server;
    server.task = config_.task;
    server.state_dir = folder_ + "/coordinator";
    TACIT_ASSIGN_OR_RETURN(server.ca_pem, ReadFileToString(pki_ + "/ca.crt"));
    TACIT_ASSIGN_OR_RETURN(server.server_cert_pem, ReadFileToString(pki_ + "/server.crt"));
    TACIT_ASSIGN_OR_RETURN(server.server_key_pem, ReadFileToString(pki_ + "/server.key"));
    server.listen = "127.0.0.1:0";
    server.population = static_cast<int64_t>(people_.size());
    server.initial_seed = DeriveSeed(config_.seed, 0, 0, kInitialModelSalt);
    // Each simulated person checks in once per round attempt.
    server.check_ins_per_minute = 600;
    try {
      auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(folder_ + "/coordinator.log");
      server.logger = coordinator::MakeJsonLogger("tacit-coordinator", {sink});
    } catch (const std::exception& e) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write ", folder_, "/coordinator.log: ", e.what()));
    }
    TACIT_ASSIGN_OR_RETURN(server_, coordinator::CoordinatorServer::Start(std::move(server)));
    return absl::OkStatus();
  }

  absl::Status RunRound(int round, const std::vector<SimulatedSeat>& seats, RoundRecord& record,
                        const std::function<void(const std::string&)>& on_phase) {
    // The coordinator plans with the same call; a cohort it cannot plan for
    // would wait for more devices forever, so it never checks in.
    std::vector<uint32_t> ids(seats.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint32_t>(i + 1);
    // Planned with the id the coordinator will give this attempt, so that an
    // attempt abandoned here reads as it does in-process.
    auto plan = coordinator::PlanRound(config_.task, next_round_id_, ids, parameter_count());
    if (!plan.ok()) {
      record.outcome = absl::StrCat("abandoned: ", plan.status().message());
      record.model_version = static_cast<int>(model_version());
      return absl::OkStatus();
    }
    if (seats.empty()) return absl::InternalError("a round with no seats was planned");
    // Devices connect in parallel (enrollment on first selection, the TLS
    // handshake); check-ins then go in seat order, so client ids follow the
    // selection as in-process.
    std::vector<std::unique_ptr<Seated>> seated(seats.size());
    std::vector<absl::Status> errors(seats.size());
    ParallelFor(seats.size(), 4 * ResolveWorkers(config_.workers), [&](size_t i) {
      absl::StatusOr<std::unique_ptr<Seated>> connected = Connect(seats[i]);
      if (connected.ok()) {
        seated[i] = *std::move(connected);
      } else {
        errors[i] = connected.status();
      }
    });
    for (const absl::Status& error : errors) TACIT_RETURN_IF_ERROR(error);
    for (auto& s : seated) TACIT_RETURN_IF_ERROR(CheckIn(*s));
    const int64_t round_id = static_cast<int64_t>(seated.front()->assignment.round_id());
    if (round_id != static_cast<int64_t>(next_round_id_)) {
      // The in-process transport numbers attempts the same way; a difference
      // would make the transports' rounding keys, and so their models, differ.
      return absl::InternalError(absl::StrCat("the coordinator numbered the attempt ", round_id,
                                              ", the simulator expected ", next_round_id_));
    }
    ++next_round_id_;
    Gate training(ResolveWorkers(config_.workers));
    std::atomic<bool> clients_done{false};
    std::thread clients([&] {
      ParallelFor(seated.size(), static_cast<int>(seated.size()),
                  [&](size_t i) { RunClient(round, *seated[i], training); });
      clients_done.store(true);
    });
    absl::StatusOr<nlohmann::json> last =
        AwaitRoundEnd(round, round_id, seated, clients_done, record, on_phase);
    if (!last.ok()) server_->Shutdown();  // answers the parked calls, so every client returns
    clients.join();
    TACIT_RETURN_IF_ERROR(last.status());
    RecordOutcome(*last, seated, record);
    return absl::OkStatus();
  }

  std::vector<float> parameters() const { return server_->orchestrator().global_parameters(); }
  int64_t model_version() const { return server_->orchestrator().model_version(); }
  double epsilon() const { return server_->orchestrator().StatusJson().value("epsilon", 0.0); }
  uint64_t parameter_count() const {
    auto layout = LayoutOf(config_.model);
    return layout.ok() ? static_cast<uint64_t>(layout->total_size) : 0;
  }

 private:
  // Drives the coordinator's clock until the round is over and every client
  // task returned; the round's metrics (the coordinator's last_round).
  absl::StatusOr<nlohmann::json> AwaitRoundEnd(
      int round, int64_t round_id, const std::vector<std::unique_ptr<Seated>>& seated,
      const std::atomic<bool>& clients_done, RoundRecord& record,
      const std::function<void(const std::string&)>& on_phase) {
    coordinator::RoundOrchestrator& orchestrator = server_->orchestrator();
    const auto start = Clock::now();
    Clock::time_point protocol_start = start;
    bool all_trained = false;
    std::string shown_phase;
    int quiet_polls = 0;
    // Every real deadline would have ended the round by then: a round that
    // stops moving for longer is a bug, not client behaviour.
    const PhaseDeadlines& deadlines = config_.task.deadlines;
    const auto stall_limit = std::chrono::duration<double>(
        deadlines.check_in + deadlines.download_train + deadlines.advertise + deadlines.share_keys +
        deadlines.masked_input + deadlines.unmasking + 60);
    std::string last_progress;
    auto last_progress_at = start;
    while (true) {
      server_->Tick(Clock::now());
      nlohmann::json status = orchestrator.StatusJson();
      const bool over =
          status.value("done", false) || status.value("round_id", int64_t{-1}) != round_id;
      if (over && clients_done.load()) {
        if (!all_trained) record.train_wall_seconds = SecondsSince(start);
        record.secagg_seconds = all_trained ? SecondsSince(protocol_start) : 0;
        return status.value("last_round", nlohmann::json::object());
      }
      const int step = CoordinatorStep(status);
      int slowest = kFinished, progress = 0;
      for (const auto& s : seated) {
        slowest = std::min(slowest, s->reached.load());
        progress += s->reached.load();
      }
      std::string phase = over ? "finishing" : status.value("phase", "");
      if (step == 0 && slowest < 0) phase = "training";
      if (on_phase && phase != shown_phase) on_phase(phase);
      shown_phase = phase;
      const std::string now_at = absl::StrCat(phase, " ", progress);
      if (now_at != last_progress) {
        last_progress = now_at;
        last_progress_at = Clock::now();
      } else if (Clock::now() - last_progress_at > stall_limit) {
        return absl::InternalError(absl::StrCat("round ", round, " made no progress in ",
                                                stall_limit.count(), " s (coordinator at '", phase,
                                                "'); see ", folder_, "/coordinator.log"));
      }
      if (!all_trained && slowest >= 0) {
        all_trained = true;
        protocol_start = Clock::now();
        record.train_wall_seconds = SecondsSince(start);
      }
      // Everyone still talking answered this step and waits: only clients
      // that vanished are missing, and the deadline is all that can end it.
      // Still selecting: everyone selected has checked in already.
      if (!over && (step < 0 || slowest > step)) {
        if (++quiet_polls >= 2) {
          orchestrator.ExpireDeadline(Clock::now());
          quiet_polls = 0;
        }
      } else {
        quiet_polls = 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Outcome, survivors and dropouts as the coordinator saw them; bytes and
  // training as the clients measured them.
  void RecordOutcome(const nlohmann::json& last, const std::vector<std::unique_ptr<Seated>>& seated,
                     RoundRecord& record) {
    if (last.value("outcome", "") == "committed") {
      record.outcome = "committed";
      record.participants = last.value("survivors", 0);
    } else {
      record.outcome = absl::StrCat("abandoned: ", last.value("reason", "unknown reason"));
    }
    if (last.contains("dropouts_per_phase") && last["dropouts_per_phase"].is_array()) {
      const auto& dropped = last["dropouts_per_phase"];
      for (size_t k = 0; k < dropped.size() && k < record.dropouts_per_phase.size(); ++k) {
        record.dropouts_per_phase[k] = dropped[k].get<int>();
      }
    }
    int trained = 0;
    double loss_sum = 0;
    for (const auto& s : seated) {
      record.stragglers += s->seat.straggler;
      record.bytes_up += s->audit.rpc.up();
      record.bytes_down += s->audit.rpc.down();
      if (s->trained) {
        ++trained;
        record.train_seconds += s->train_seconds;
        loss_sum += s->train_loss;
      }
      // A laptop keeps the model it trained from; a simulated person holds
      // nothing between rounds (the model changes every round anyway).
      std::error_code ignored;
      fs::remove_all(s->dir + "/model", ignored);
    }
    if (trained > 0) record.train_loss = loss_sum / trained;
    record.model_version = static_cast<int>(model_version());
    record.epsilon = epsilon();
  }

  // The person's device: certificate issued and enrolled on first selection.
  absl::StatusOr<runtime::Enrollment> EnrollmentOf(const std::string& device,
                                                   const std::string& dir) {
    if (!fs::exists(dir + "/fleet")) {
      TACIT_ASSIGN_OR_RETURN(std::string cert, coordinator::IssueDeviceInFolder(pki_, device, 30));
      std::string key = pki_ + "/devices/" + device + ".key";
      TACIT_RETURN_IF_ERROR(
          runtime::Enroll(dir, server_->grpc_address(), pki_ + "/ca.crt", cert, key, kServerName));
    }
    return runtime::LoadEnrollment(dir);
  }

  absl::StatusOr<std::unique_ptr<Seated>> Connect(const SimulatedSeat& seat) {
    auto s = std::make_unique<Seated>();
    s->seat = seat;
    s->device = absl::StrCat("sim-", seat.person);
    s->dir = absl::StrCat(folder_, "/clients/", s->device);
    TACIT_ASSIGN_OR_RETURN(runtime::Enrollment enrollment, EnrollmentOf(s->device, s->dir));
    std::shared_ptr<grpc::Channel> channel = runtime::OpenFleetChannel(enrollment);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30))) {
      return absl::UnavailableError(absl::StrCat("simulated device ", s->device,
                                                 " could not connect to the coordinator at ",
                                                 server_->grpc_address()));
    }
    s->stub = v1::Federation::NewStub(channel);
    return s;
  }

  absl::Status CheckIn(Seated& seat) {
    v1::CheckInRequest request;
    runtime::HeldModel held = runtime::HeldModelOf(seat.dir);
    request.set_model_version(held.version);
    request.set_layout_hash(held.layout_hash);
    v1::CheckInResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status rpc = seat.stub->CheckIn(&context, request, &response);
    if (!rpc.ok()) {
      return absl::UnavailableError(absl::StrCat("simulated device ", seat.device,
                                                 " could not check in: ", rpc.error_message()));
    }
    if (!response.has_assignment()) {
      return absl::InternalError(absl::StrCat("the coordinator did not seat simulated device ",
                                              seat.device, ": ", response.retry_after().reason()));
    }
    seat.assignment = response.assignment();
    seat.audit.rpc.Count(runtime::kRpcCheckIn, static_cast<int64_t>(request.ByteSizeLong()),
                         static_cast<int64_t>(response.ByteSizeLong()));
    return absl::OkStatus();
  }

  // The fleet client's round for one simulated person.
  void RunClient(int round, Seated& s, Gate& training) {
    if (s.seat.straggler) {
      // A slow laptop: it downloads the model like everyone else, then is
      // silent past the training deadline. What it received counts in bytes
      // down, as on the in-process transport; a failed download changes
      // nothing else, since it never answers anyway.
      runtime::RpcBytes download;
      (void)runtime::FetchModel(*s.stub, s.dir, s.assignment, /*max_download_bytes=*/0, &download);
      s.audit.rpc.by_rpc[runtime::kRpcDownloadModel] = download;
      s.reached.store(kFinished);
      return;
    }
    const size_t person = s.seat.person;
    runtime::RoundRunnerOptions options;
    options.dir = s.dir;
    options.device_id = s.device;
    options.threads = 1;
    options.tokens = &people_[person];
    options.training_seed = DeriveSeed(config_.seed, round, person, kTrainingSalt);
    options.noise_seed = DeriveKey(config_.seed, round, person, kNoiseSalt);
    options.rounding_key = DeriveKey(config_.seed, s.assignment.round_id(), person, kRoundingSalt);
    options.ddg_noise_seed = DeriveSeed(config_.seed, s.assignment.round_id(), person, kNoiseSalt);
    options.leave_after_step = s.seat.drop_phase;
    // Simulated people take part in the task under study as configured (the
    // in-process transport has no owner either): the floors are the lowest
    // a valid task allows, and the own noise share equals the coordinator's.
    options.policy.min_cohort_size = 2;
    options.policy.min_secagg_threshold = 2;
    options.policy.min_survivors = 2;
    // The simulator's selection is its own seeded order, as on the in-process
    // transport (no coins flipped by simulated laptops).
    options.enforce_random_check_in = false;
    options.on_phase = [&s, &training](const std::string& phase) {
      if (phase == "training") {
        training.Acquire();
        s.holds_permit = true;
      } else if (s.holds_permit) {
        training.Release();
        s.holds_permit = false;
      }
      s.reached.store(ReachedOf(phase));
    };
    options.on_trained = [&s](const PreparedUpdate& update) {
      s.train_seconds = update.train_seconds;
      s.train_loss = update.train_loss;
      s.trained = true;
    };
    const runtime::RpcTally check_in = s.audit.rpc;
    absl::StatusOr<runtime::AuditEntry> audit =
        runtime::RunAssignedRound(*s.stub, s.assignment, options);
    if (s.holds_permit) training.Release();  // training failed before sending anything
    s.holds_permit = false;
    if (audit.ok()) {
      s.audit = *std::move(audit);
      s.audit.rpc.Add(check_in);
    }
    s.reached.store(kFinished);
  }

  const ExperimentConfig& config_;
  const std::vector<PersonTokens>& people_;
  std::string folder_;
  std::string pki_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
  uint64_t next_round_id_ = 1;  // the coordinator numbers the attempts it opens from 1
};

GrpcFederation::GrpcFederation(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcFederation::~GrpcFederation() = default;

absl::StatusOr<std::unique_ptr<GrpcFederation>> GrpcFederation::Start(
    const ExperimentConfig& config, const std::vector<PersonTokens>& people,
    const std::string& folder) {
  auto impl = std::make_unique<Impl>(config, people, folder);
  TACIT_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<GrpcFederation>(new GrpcFederation(std::move(impl)));
}

absl::Status GrpcFederation::RunRound(int round, const std::vector<SimulatedSeat>& seats,
                                      RoundRecord& record,
                                      const std::function<void(const std::string&)>& on_phase) {
  return impl_->RunRound(round, seats, record, on_phase);
}

std::vector<float> GrpcFederation::parameters() const { return impl_->parameters(); }
int64_t GrpcFederation::model_version() const { return impl_->model_version(); }
double GrpcFederation::epsilon() const { return impl_->epsilon(); }

}  // namespace tacit::sim
