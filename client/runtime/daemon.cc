#include "client/runtime/daemon.h"

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "client/control_state.h"
#include "client/runtime/channel_wait.h"
#include "client/runtime/check_in_jitter.h"
#include "client/runtime/coordinator_pin.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/fleet_connection.h"
#include "client/runtime/model_cache.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/personal_model_store.h"
#include "client/runtime/privacy_budget.h"
#include "client/runtime/privacy_ledger.h"
#include "client/runtime/random_check_in.h"
#include "client/runtime/training_data.h"
#include "client/synthetic_activity.h"
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
  // Synthetic events in the store (synthetic_activity.h), said wherever the
  // daemon's progress is shown.
  void MarkSynthetic(const SyntheticActivity& synthetic) {
    status_["synthetic_events"] = synthetic.stored;
  }
  // The round the progress lines of Set("in round", ...) belong to.
  void EnterRound(int64_t round) { status_["round"] = round; }
  void CountRound(const AuditEntry& audit) {
    if (audit.sent.empty()) return;  // refused or left before sending: not joined
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

// The last task seen (the coordinator sends it with every assignment): its
// eligibility requirements, privacy sampling and noise govern the next
// check-in. None before the first.
std::optional<TaskConfig> KnownTask(const std::string& dir) { return LastAssignedTask(dir); }

// The privacy ledger's say for the known task (round_runner.cc asks again
// for the assigned one): a damaged ledger, the owner's budget, then the
// window's random check-in coin, flipped at most once. Empty: it may.
std::string PrivacyReasonNotToCheckIn(const DaemonOptions& options,
                                      const ParticipationPolicy& policy,
                                      const std::optional<TaskConfig>& task, std::string* state) {
  absl::StatusOr<Ledger> ledger = ReadLedger(options.dir);
  if (!ledger.ok()) {
    *state = "privacy ledger unreadable";
    return std::string(ledger.status().message());
  }
  if (std::string damaged = DamagedLedgerReason(*ledger); !damaged.empty()) {
    *state = "privacy ledger damaged";
    return damaged;
  }
  if (!task) return "";
  const int64_t now = cli::NowMs();
  // The budget first: a coin flipped costs its window's release.
  if (absl::Status budget =
          CheckPrivacyBudget(policy, *ledger, *task, CheckInWindow(task->dp, now));
      !budget.ok()) {
    *state = "privacy budget spent";
    return std::string(budget.message());
  }
  absl::StatusOr<CheckInDecision> decision =
      DecideCheckIn(options.dir, *ledger, *task, now, SecureUnitRandom);
  if (!decision.ok()) {
    *state = "random check-in failed";
    return absl::StrCat("cannot flip or record the random check-in coin: ",
                        decision.status().message());
  }
  if (!decision->offer) {
    *state = "sitting out this window";
    return decision->why;
  }
  return "";
}

// Why the laptop has nothing to train on (training_data.h), empty when it
// has; asked before every check-in, so it reads only the events it needs.
// Before the first task arrives the default vocabulary counts the tokens:
// their number does not depend on the vocabulary.
std::string NoTrainingDataReason(const DaemonOptions& options,
                                 const std::optional<TaskConfig>& task) {
  if (options.runner.tokens != nullptr) return NoTrainingWindowReason(*options.runner.tokens);
  absl::StatusOr<std::string> reason =
      NoTrainingDataInStore(options.dir, options.runner.device_id, task ? *task : TaskConfig{});
  if (!reason.ok()) {
    return absl::StrCat("cannot read the local store: ", reason.status().message());
  }
  return *reason;
}

// Why this laptop must not check in now, decided here and never sent: the
// owner's pause, the task's requirements, training data, the owner's daily
// cap. Empty: it may.
std::string ReasonNotToCheckIn(const DaemonOptions& options, const ParticipationPolicy& policy,
                               StatusFile& status, std::string* state) {
  absl::StatusOr<ControlState> control = LoadControlState(options.dir);
  if (control.ok() && control->training_paused) {
    *state = "paused";
    return "training paused by the owner";
  }
  DeviceReadings readings = ReadDevice(options.overrides);
  status.SetReadings(ReadingsToJson(readings));
  *state = "ineligible";
  const std::optional<TaskConfig> task = KnownTask(options.dir);
  std::string reason = IneligibleReason(task ? task->eligibility : EligibilityConfig{}, readings);
  if (!reason.empty()) return reason;
  if (std::string no_data = NoTrainingDataReason(options, task); !no_data.empty()) {
    *state = "no training data";
    return no_data;
  }
  absl::StatusOr<AuditTotals> totals = SumAudit(options.dir);
  if (!totals.ok()) return absl::StrCat("cannot read the audit log: ", totals.status().message());
  if (totals->rounds_joined_today >= policy.max_rounds_per_day) {
    *state = "daily cap reached";
    return absl::StrCat(totals->rounds_joined_today, " rounds joined today (UTC), the cap is ",
                        policy.max_rounds_per_day, " (", kParticipationPolicyFile, ")");
  }
  return PrivacyReasonNotToCheckIn(options, policy, task, state);
}

// Check-ins that did not lead to a round, written as one audit line when
// the burst ends or grows old.
class CheckInCounter {
 public:
  explicit CheckInCounter(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Count(int64_t up, int64_t down, const std::string& reply) {
    if (burst_.rpc.calls() == 0) {
      burst_.since = cli::FormatTime(cli::NowMs());
      started_ = std::chrono::steady_clock::now();
    }
    burst_.rpc.Count(kRpcCheckIn, up, down);
    burst_.last_reply = reply;
    if (std::chrono::steady_clock::now() - started_ >= std::chrono::hours(1)) return Flush();
    return absl::OkStatus();
  }
  absl::Status Flush() {
    if (burst_.rpc.calls() == 0) return absl::OkStatus();
    TACIT_RETURN_IF_ERROR(AppendCheckInBurst(dir_, burst_));
    burst_ = CheckInBurst{};
    return absl::OkStatus();
  }

 private:
  std::string dir_;
  CheckInBurst burst_;
  std::chrono::steady_clock::time_point started_;
};

// Timing only. A failing CSPRNG (never expected) waits the longest.
double UnitRandom() {
  absl::StatusOr<double> unit = SecureUnitRandom();
  return unit.ok() ? *unit : 1.0;
}

// Waits up to `seconds`; true when it ended because the coordinator became
// reachable again (channel_wait.h), after a spread of up to a second so a
// fleet does not arrive in one burst. The laptop was eligible and checking
// in before the wait, so the check-in that follows skips the eligibility
// jitter (check_in_jitter.h): its moment tells when the coordinator came
// back, not when the owner's laptop became eligible. The owner's pause ends
// the wait (false) and closes the connection: gRPC would redial it.
bool WakeOnReconnect(FleetConnection& connection, double seconds, const std::string& dir) {
  const WaitEnd end = SleepUnlessReconnected(connection.channel(), seconds, g_stop, dir);
  if (end == WaitEnd::kPaused) connection.Close();
  if (end != WaitEnd::kReconnected) return false;
  Log("the coordinator is reachable again; checking in");
  SleepFor(UnitRandom());
  return true;
}

// After a round, the personal model the task asks for (personal_model_store.h):
// this laptop's CPU only, nothing is sent. The owner's pause pauses it too;
// a failure is logged and the fleet work goes on.
void RefreshPersonalModelAfterRound(const DaemonOptions& options,
                                    const v1::Assignment& assignment) {
  absl::StatusOr<TaskConfig> task = AssignedTask(assignment);
  if (!task.ok() || !task->personalization.enabled()) return;
  absl::StatusOr<ControlState> control = LoadControlState(options.dir);
  if (!control.ok() || control->training_paused) return;
  absl::StatusOr<PersonalModelRefresh> refresh = RefreshPersonalModel(
      options.dir, options.runner.device_id, *task, options.runner.policy,
      assignment.model_version(), options.runner.threads, options.runner.max_train_seconds);
  Log(refresh.ok() ? refresh->reason
                   : absl::StrCat("personal model not updated: ", refresh.status().message()));
}

}  // namespace

absl::Status RunDaemon(DaemonOptions options) {
  TACIT_ASSIGN_OR_RETURN(Enrollment enrollment, LoadEnrollment(options.dir));
  TACIT_RETURN_IF_ERROR(WriteDefaultParticipationPolicy(options.dir));
  TACIT_ASSIGN_OR_RETURN(options.runner.policy, LoadParticipationPolicy(options.dir));
  options.runner.dir = options.dir;
  options.runner.device_id = enrollment.device_id;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // Training is background work: yield the CPU to the laptop's owner.
  (void)::setpriority(PRIO_PROCESS, 0, 10);
  // The coordinator is checked in every TLS handshake (fleet_channel.h):
  // a refused one receives no call at all; `handshakes` says why calls fail.
  auto handshakes = std::make_shared<CoordinatorHandshakes>();
  FleetConnection connection(enrollment, handshakes);
  StatusFile status(options.dir, enrollment.device_id);
  int64_t round_number = 0;
  options.runner.on_phase = [&status, &round_number](const std::string& progress) {
    status.Set("in round", absl::StrCat("round ", round_number, ": ", progress));
  };
  Log(absl::StrCat("device ", enrollment.device_id, " -> ", enrollment.coordinator));
  absl::StatusOr<std::optional<SyntheticActivity>> synthetic = LoadSyntheticMarker(options.dir);
  if (!synthetic.ok()) {
    Log(std::string(synthetic.status().message()));
  } else if (*synthetic) {
    status.MarkSynthetic(**synthetic);
    Log(absl::StrCat("the store holds ", (*synthetic)->stored,
                     " SYNTHETIC events (tacit-client generate-activity): rounds train on them"));
  }
  CheckInCounter check_ins(options.dir);
  int failures = 0;
  bool jittered = false;
  std::string last_state;  // why it last did not check in: logged once per change
  while (!g_stop.load()) {
    // The owner may tighten (or loosen) the policy while the daemon runs; a
    // file that does not parse keeps the last valid policy.
    if (absl::StatusOr<ParticipationPolicy> policy = LoadParticipationPolicy(options.dir);
        policy.ok()) {
      options.runner.policy = *policy;
    } else {
      status.Set("policy file invalid", std::string(policy.status().message()));
    }
    std::string state;
    const std::string reason = ReasonNotToCheckIn(options, options.runner.policy, status, &state);
    if (!reason.empty()) {
      if (state != last_state) Log(absl::StrCat("not checking in (", state, "): ", reason));
      last_state = state;
      status.Set(state, reason);
      // Not calling: no connection either (fleet_connection.h).
      connection.Close();
      jittered = false;
      SleepFor(options.idle_check_seconds);
      continue;
    }
    last_state.clear();
    if (!jittered) {
      // check_in_jitter.h: hides the moment the laptop became eligible;
      // eligibility is read again after the wait.
      const double wait = options.check_in_jitter_seconds * UnitRandom();
      status.Set("eligible", absl::StrCat("checking in after a random ", wait, " s"));
      SleepFor(wait);
      jittered = true;
      continue;
    }
    jittered = false;
    v1::CheckInRequest request;
    HeldModel held = HeldModelOf(options.dir);
    request.set_model_version(held.version);
    request.set_layout_hash(held.layout_hash);
    v1::CheckInResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    grpc::Status rpc = connection.stub().CheckIn(&context, request, &response);
    const auto up = static_cast<int64_t>(request.ByteSizeLong());
    const int64_t down = rpc.ok() ? static_cast<int64_t>(response.ByteSizeLong()) : 0;
    if (!rpc.ok() && rpc.error_code() == grpc::StatusCode::UNAVAILABLE &&
        !handshakes->latest_refusal().ok()) {
      // The laptop's own check refused the coordinator in the handshake
      // (coordinator_pin.h): the request never left, so nothing is counted.
      const absl::Status refused = handshakes->latest_refusal();
      TACIT_RETURN_IF_ERROR(check_ins.Flush());
      status.Set("coordinator refused", std::string(refused.message()));
      Log(absl::StrCat("refusing the coordinator: ", refused.message()));
      return refused;
    }
    if (!rpc.ok()) {
      TACIT_RETURN_IF_ERROR(
          check_ins.Count(up, down, absl::StrCat("failed: ", rpc.error_message())));
      ++failures;
      double wait = BackoffSeconds(failures, options.max_backoff_seconds, UnitRandom());
      status.Set("backing off", absl::StrCat("check-in failed: ", rpc.error_message()));
      Log(absl::StrCat("check-in failed (", rpc.error_message(), "); retrying in ", wait,
                       " s, or once the coordinator is reachable again"));
      jittered = WakeOnReconnect(connection, wait, options.dir);
      continue;
    }
    failures = 0;
    if (response.has_retry_after()) {
      const v1::RetryAfter& retry = response.retry_after();
      TACIT_RETURN_IF_ERROR(check_ins.Count(up, down, retry.reason()));
      if (retry.task_complete() && options.exit_when_task_complete) {
        TACIT_RETURN_IF_ERROR(check_ins.Flush());
        status.Set("done", retry.reason());
        Log("the task is complete; exiting");
        return absl::OkStatus();
      }
      double wait =
          std::min(options.max_retry_seconds, retry.seconds()) * (0.9 + 0.2 * UnitRandom());
      status.Set("waiting", retry.reason());
      // A restarted coordinator forgets the retry time it gave.
      jittered = WakeOnReconnect(connection, wait, options.dir);
      continue;
    }
    TACIT_RETURN_IF_ERROR(check_ins.Flush());
    const v1::Assignment& assignment = response.assignment();
    (void)MakeDirectories(options.dir + "/model", 0700);
    // The last valid task's requirements govern the next check-in
    // (KnownTask); an invalid one is refused by RunAssignedRound.
    if (absl::StatusOr<TaskConfig> task = AssignedTask(assignment); task.ok()) {
      (void)WriteFileAtomically(options.dir + "/model/task.json", TaskConfigToJson(*task).dump(2),
                                0600);
    }
    Log(absl::StrCat("selected for round ", assignment.round_number(), " (id ",
                     assignment.round_id(), ") as client ", assignment.client_id()));
    round_number = assignment.round_number();
    status.EnterRound(round_number);
    absl::StatusOr<AuditEntry> audit =
        RunAssignedRound(connection.stub(), assignment, options.runner);
    if (!audit.ok()) {
      // Refused before any other call: only the check-in left. A declined
      // round all the same, so it has its line with its reason.
      AuditEntry declined;
      declined.task = assignment.task().name();
      declined.round = assignment.round_number();
      declined.round_id = assignment.round_id();
      declined.model_version = assignment.model_version();
      declined.outcome = absl::StrCat("refused: ", audit.status().message());
      declined.rpc.Count(kRpcCheckIn, up, down);
      TACIT_RETURN_IF_ERROR(AppendAudit(options.dir, declined));
      status.Set("round failed", std::string(audit.status().message()));
      Log(absl::StrCat("round ", assignment.round_number(),
                       " not joined: ", audit.status().message()));
      SleepFor(BackoffSeconds(++failures, options.max_backoff_seconds, UnitRandom()));
      continue;
    }
    audit->rpc.Count(kRpcCheckIn, up, down);  // the check-in that brought the assignment
    TACIT_RETURN_IF_ERROR(AppendAudit(options.dir, *audit));
    status.CountRound(*audit);
    status.Set("between rounds", audit->outcome);
    Log(absl::StrCat("round ", audit->round, ": ", audit->outcome, ", sent ", audit->rpc.up(),
                     " bytes, received ", audit->rpc.down()));
    RefreshPersonalModelAfterRound(options, assignment);
    if (audit->outcome.rfind("left: ", 0) == 0 || audit->outcome.rfind("refused: ", 0) == 0) {
      // Lost the round (connection or coordinator restart), or refused it:
      // try a later one, not at once, unless the coordinator came back.
      jittered = WakeOnReconnect(
          connection, BackoffSeconds(++failures, options.max_backoff_seconds, UnitRandom()),
          options.dir);
    }
  }
  TACIT_RETURN_IF_ERROR(check_ins.Flush());
  status.Set("stopped");
  return absl::OkStatus();
}

}  // namespace tacit::runtime
