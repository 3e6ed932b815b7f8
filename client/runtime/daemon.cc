#include "client/runtime/daemon.h"

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "client/control_state.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/fleet_channel.h"
#include "client/runtime/model_cache.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "task/task_config.h"

namespace tacit::runtime {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

// Sleeps in small steps so a signal ends the daemon promptly.
void SleepFor(double seconds) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (!g_stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

class StatusFile {
 public:
  StatusFile(std::string dir, std::string device) : dir_(std::move(dir)) {
    status_["pid"] = static_cast<int64_t>(::getpid());
    status_["device"] = std::move(device);
    status_["rounds_joined"] = 0;
    status_["rounds_included"] = 0;
  }
  void Set(const std::string& state, const std::string& detail = "") {
    status_["state"] = state;
    status_["detail"] = detail;
    status_["updated"] = cli::FormatTime(cli::NowMs());
    status_["model_version"] = HeldModelOf(dir_).version;
    // Best effort: the status file is informational.
    (void)WriteFileAtomically(dir_ + "/" + kDaemonStatusFile, status_.dump(2) + "\n", 0644);
  }
  // The last eligibility readings and the source of each.
  void SetReadings(nlohmann::json readings) { status_["readings"] = std::move(readings); }
  // The round the progress lines of Set("in round", ...) belong to.
  void EnterRound(int64_t round) { status_["round"] = round; }
  void CountRound(const AuditEntry& audit) {
    status_["rounds_joined"] = status_["rounds_joined"].get<int>() + 1;
    if (audit.included) {
      status_["rounds_included"] = status_["rounds_included"].get<int>() + 1;
    }
    status_["last_round"] = {{"round", audit.round}, {"outcome", audit.outcome}};
  }

 private:
  std::string dir_;
  nlohmann::json status_;
};

void Log(const std::string& line) {
  std::cerr << cli::FormatTime(cli::NowMs()) << " tacit-client: " << line << std::endl;
}

// The eligibility requirements of the last task seen (the coordinator sends
// them with every assignment); the documented defaults before the first.
EligibilityConfig KnownRequirements(const std::string& dir) {
  auto text = ReadFileToString(dir + "/model/task.json");
  if (text.ok()) {
    absl::StatusOr<nlohmann::json> json = ParseJson(*text, "model/task.json");
    auto task = json.ok() ? ParseTaskConfig(*json) : json.status();
    if (task.ok()) return task->eligibility;
  }
  return EligibilityConfig{};
}

}  // namespace

absl::Status RunDaemon(DaemonOptions options) {
  TACIT_ASSIGN_OR_RETURN(Enrollment enrollment, LoadEnrollment(options.dir));
  options.runner.dir = options.dir;
  options.runner.device_id = enrollment.device_id;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // Training is background work: yield the CPU to the laptop's owner.
  (void)::setpriority(PRIO_PROCESS, 0, 10);
  std::mt19937_64 jitter(std::random_device{}());  // timing only, never keys
  std::uniform_real_distribution<double> unit(0, 1);
  auto channel = OpenFleetChannel(enrollment);
  auto stub = v1::Federation::NewStub(channel);
  StatusFile status(options.dir, enrollment.device_id);
  int64_t round_number = 0;
  options.runner.on_phase = [&status, &round_number](const std::string& progress) {
    status.Set("in round", absl::StrCat("round ", round_number, ": ", progress));
  };
  Log(absl::StrCat("device ", enrollment.device_id, " -> ", enrollment.coordinator));
  int failures = 0;
  while (!g_stop.load()) {
    absl::StatusOr<ControlState> control = LoadControlState(options.dir);
    const bool paused = control.ok() && control->training_paused;
    DeviceReadings readings = ReadDevice(options.overrides);
    status.SetReadings(ReadingsToJson(readings));
    std::string reason = IneligibleReason(KnownRequirements(options.dir), readings);
    if (paused || !reason.empty()) {
      status.Set(paused ? "paused" : "ineligible",
                 paused ? "training paused by the owner" : reason);
      SleepFor(options.idle_check_seconds);
      continue;
    }
    v1::CheckInRequest request;
    HeldModel held = HeldModelOf(options.dir);
    request.set_model_version(held.version);
    request.set_layout_hash(held.layout_hash);
    *request.mutable_state() = ToDeviceState(readings, reason, paused);
    v1::CheckInResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    grpc::Status rpc = stub->CheckIn(&context, request, &response);
    if (!rpc.ok()) {
      ++failures;
      double wait = BackoffSeconds(failures, options.max_backoff_seconds, unit(jitter));
      status.Set("backing off", absl::StrCat("check-in failed: ", rpc.error_message()));
      Log(absl::StrCat("check-in failed (", rpc.error_message(), "); retrying in ", wait, " s"));
      SleepFor(wait);
      continue;
    }
    failures = 0;
    if (response.has_retry_after()) {
      const v1::RetryAfter& retry = response.retry_after();
      if (retry.task_complete() && options.exit_when_task_complete) {
        status.Set("done", retry.reason());
        Log("the task is complete; exiting");
        return absl::OkStatus();
      }
      double wait =
          std::min(options.max_retry_seconds, retry.seconds()) * (0.9 + 0.2 * unit(jitter));
      status.Set("waiting", retry.reason());
      SleepFor(wait);
      continue;
    }
    const v1::Assignment& assignment = response.assignment();
    (void)MakeDirectories(options.dir + "/model", 0700);
    // The last valid task's requirements govern the next check-in
    // (KnownRequirements); an invalid one is refused by RunAssignedRound.
    if (absl::StatusOr<TaskConfig> task = AssignedTask(assignment); task.ok()) {
      (void)WriteFileAtomically(options.dir + "/model/task.json", TaskConfigToJson(*task).dump(2),
                                0600);
    }
    Log(absl::StrCat("selected for round ", assignment.round_number(), " (id ",
                     assignment.round_id(), ") as client ", assignment.client_id()));
    round_number = assignment.round_number();
    status.EnterRound(round_number);
    absl::StatusOr<AuditEntry> audit = RunAssignedRound(*stub, assignment, options.runner);
    if (!audit.ok()) {
      status.Set("round failed", std::string(audit.status().message()));
      Log(absl::StrCat("round ", assignment.round_number(),
                       " not joined: ", audit.status().message()));
      SleepFor(BackoffSeconds(++failures, options.max_backoff_seconds, unit(jitter)));
      continue;
    }
    TACIT_RETURN_IF_ERROR(AppendAudit(options.dir, *audit));
    status.CountRound(*audit);
    status.Set("between rounds", audit->outcome);
    Log(absl::StrCat("round ", audit->round, ": ", audit->outcome, ", sent ", audit->bytes_up,
                     " bytes (masked)"));
    if (audit->outcome.rfind("left: ", 0) == 0) {
      // Lost the round (connection or coordinator restart): rejoin soon.
      SleepFor(BackoffSeconds(++failures, options.max_backoff_seconds, unit(jitter)));
    }
  }
  status.Set("stopped");
  return absl::OkStatus();
}

}  // namespace tacit::runtime
