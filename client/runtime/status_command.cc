// tacit-client status: the enrollment, the owner's switches, the daemon, the
// task and its noise, the policy, the privacy spent, and, kept apart, what
// left this laptop. Read from the client's folder alone (no coordinator
// needed); --json for the same facts.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/collector/heartbeat.h"
#include "client/control_state.h"
#include "client/runtime/audit_log.h"
#include "client/runtime/audit_summary.h"
#include "client/runtime/daemon.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/fleet_commands.h"
#include "client/runtime/model_cache.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/personal_model_store.h"
#include "client/runtime/privacy_budget.h"
#include "client/runtime/privacy_command.h"
#include "client/runtime/privacy_ledger.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/secure_random.h"
#include "nlohmann/json.hpp"

namespace tacit::cli {
namespace {

// What status says of the coordinator's pin (coordinator_pin.h), from the
// loaded enrollment.
std::string PinText(const absl::StatusOr<runtime::Enrollment>& enrollment) {
  if (!enrollment.ok()) return "none: not enrolled";
  if (enrollment->server_sha256.empty()) {
    return "not pinned (enrolled before pinning): checked against the fleet CA and its name "
           "only; enroll again to pin it";
  }
  return absl::StrCat("SHA-256 ", enrollment->server_sha256,
                      " (pinned at enroll; any other is refused in the TLS handshake)");
}

nlohmann::json EpsilonJson(double epsilon) {
  return std::isfinite(epsilon) ? nlohmann::json(epsilon) : nlohmann::json("infinite");
}

// Everything status shows, gathered once for the text and the JSON.
struct StatusFacts {
  absl::StatusOr<runtime::Enrollment> enrollment = absl::UnknownError("unread");
  ControlState control;
  std::string control_problem;
  std::string collector;  // DescribeHeartbeat's text
  nlohmann::json daemon;  // daemon.json, or null when the daemon never ran here
  nlohmann::json readings;
  bool readings_now = false;
  std::optional<TaskConfig> task;
  std::optional<double> own_noise_stddev;
  runtime::ParticipationPolicy policy;
  runtime::Ledger ledger;
  runtime::AuditTotals totals;
  size_t audit_lines = 0;
  std::vector<nlohmann::json> newest;
  std::optional<runtime::PersonalModelInfo> personal;
  std::string personal_problem;
};

StatusFacts Gather(const std::string& dir, size_t last) {
  StatusFacts f;
  f.enrollment = runtime::LoadEnrollment(dir);
  if (f.enrollment.ok()) {
    // The key is not shown; no need to keep it in memory.
    std::string& key = f.enrollment->key_pem;
    Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(key.data()), key.size()));
  }
  absl::StatusOr<ControlState> control = LoadControlState(dir);
  if (control.ok()) {
    f.control = *control;
  } else {
    f.control_problem = std::string(control.status().message());
  }
  f.collector = collector::DescribeHeartbeat(collector::ReadHeartbeat(dir), NowMs());
  if (auto daemon = ReadFileToString(dir + "/" + runtime::kDaemonStatusFile); daemon.ok()) {
    absl::StatusOr<nlohmann::json> parsed = ParseJson(*daemon, runtime::kDaemonStatusFile);
    if (parsed.ok() && parsed->is_object()) f.daemon = *std::move(parsed);
  }
  if (f.daemon.is_object() && f.daemon.contains("readings")) f.readings = f.daemon["readings"];
  // The daemon's last readings (with its overrides); read now without it.
  f.readings_now = f.readings.is_null();
  if (f.readings_now) f.readings = runtime::ReadingsToJson(runtime::ReadDevice({}));
  auto policy = runtime::LoadParticipationPolicy(dir);
  FailIfError(policy.status());
  f.policy = *policy;
  f.task = runtime::LastAssignedTask(dir);
  if (f.task) {
    absl::StatusOr<double> own = runtime::OwnNoiseStddev(f.policy, *f.task);
    if (own.ok()) f.own_noise_stddev = *own;
  }
  auto ledger = runtime::ReadLedger(dir);
  FailIfError(ledger.status());
  f.ledger = *std::move(ledger);
  auto totals = runtime::SumAudit(dir);
  FailIfError(totals.status());
  f.totals = *totals;
  auto all = runtime::ReadAudit(dir, std::numeric_limits<size_t>::max());
  FailIfError(all.status());
  f.audit_lines = all->size();
  const size_t shown = std::min(last, all->size());
  f.newest.assign(all->end() - static_cast<std::ptrdiff_t>(shown), all->end());
  absl::StatusOr<std::optional<runtime::PersonalModelInfo>> personal =
      runtime::ReadPersonalModelInfo(dir);
  if (personal.ok()) {
    f.personal = *personal;
  } else {
    f.personal_problem = std::string(personal.status().message());
  }
  return f;
}

std::string NoiseText(const StatusFacts& f) {
  if (!f.task) return "no task seen yet (the coordinator sends it with the first round)";
  const TaskConfig& t = *f.task;
  std::string text =
      absl::StrCat("task '", t.name, "': noise multiplier z ", t.dp.noise_multiplier, " (",
                   runtime::LedgerMechanismOf(t), "), clip norm ", t.dp.clip_norm);
  if (t.dp.noise_multiplier <= 0) return absl::StrCat(text, "; NO differential-privacy noise");
  if (f.own_noise_stddev && *f.own_noise_stddev > 0) {
    absl::StrAppend(&text, "; this laptop's own noise share: stddev ", *f.own_noise_stddev);
  } else {
    absl::StrAppend(&text, "; this laptop plans its own discrete noise from the task");
  }
  return text;
}

nlohmann::json PrivacyJson(const StatusFacts& f) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const std::string& task : runtime::LedgerTasks(f.ledger)) {
    absl::StatusOr<runtime::TaskSpending> s = runtime::SpentOnTask(f.ledger, task, f.policy.delta);
    if (!s.ok()) {
      tasks.push_back({{"task", task}, {"problem", std::string(s.status().message())}});
      continue;
    }
    nlohmann::json row = {{"task", task},
                          {"participations", s->participations},
                          {"windows", s->windows},
                          {"epsilon", EpsilonJson(s->epsilon())},
                          {"released", EpsilonJson(s->released)},
                          {"vs_coordinator", EpsilonJson(s->vs_coordinator)}};
    row["budget_left"] = f.policy.max_epsilon
                             ? EpsilonJson(std::max(0.0, *f.policy.max_epsilon - s->epsilon()))
                             : nlohmann::json();
    tasks.push_back(std::move(row));
  }
  return {{"delta", f.policy.delta},
          {"max_epsilon",
           f.policy.max_epsilon ? nlohmann::json(*f.policy.max_epsilon) : nlohmann::json()},
          {"damaged", runtime::DamagedLedgerReason(f.ledger)},
          {"tasks", std::move(tasks)}};
}

nlohmann::json StatusJson(const std::string& dir, const StatusFacts& f) {
  nlohmann::json j;
  j["client_dir"] = dir;
  if (f.enrollment.ok()) {
    j["enrollment"] = {{"enrolled", true},
                       {"device", f.enrollment->device_id},
                       {"coordinator", f.enrollment->coordinator}};
  } else {
    j["enrollment"] = {{"enrolled", false},
                       {"problem", std::string(f.enrollment.status().message())}};
  }
  j["enrollment"]["coordinator_fingerprint"] =
      f.enrollment.ok() && !f.enrollment->server_sha256.empty()
          ? nlohmann::json(f.enrollment->server_sha256)
          : nlohmann::json();
  j["enrollment"]["coordinator_pin"] = PinText(f.enrollment);
  j["collection_paused"] = f.control.collection_paused;
  j["training_paused"] = f.control.training_paused;
  if (!f.control_problem.empty()) j["control_problem"] = f.control_problem;
  j["collector"] = f.collector;
  j["daemon"] = f.daemon;
  j["readings"] = f.readings;
  j["readings_from"] = f.readings_now ? "read now" : "the daemon's last check";
  if (f.task) {
    j["task"] = {{"name", f.task->name},
                 {"noise_multiplier", f.task->dp.noise_multiplier},
                 {"mechanism", runtime::LedgerMechanismOf(*f.task)},
                 {"clip_norm", f.task->dp.clip_norm},
                 {"own_noise_stddev",
                  f.own_noise_stddev ? nlohmann::json(*f.own_noise_stddev) : nlohmann::json()}};
  } else {
    j["task"] = nullptr;
  }
  j["policy"] = {{"min_cohort_size", f.policy.min_cohort_size},
                 {"min_secagg_threshold", f.policy.min_secagg_threshold},
                 {"min_survivors", f.policy.min_survivors},
                 {"max_rounds_per_day", f.policy.max_rounds_per_day}};
  j["privacy"] = PrivacyJson(f);
  if (f.personal) {
    j["personal_model"] = runtime::PersonalModelInfoToJson(*f.personal);
  } else {
    j["personal_model"] = f.personal_problem.empty()
                              ? nlohmann::json(nullptr)
                              : nlohmann::json({{"problem", f.personal_problem}});
  }
  j["left_this_laptop"] = {{"bytes_up", f.totals.bytes_up},
                           {"bytes_down", f.totals.bytes_down},
                           {"rounds_joined", f.totals.rounds_joined},
                           {"rounds_joined_today", f.totals.rounds_joined_today},
                           {"check_ins", f.totals.check_ins},
                           {"audit_lines", f.audit_lines},
                           {"newest", f.newest}};
  return j;
}

void PrintReadings(const nlohmann::json& r, const std::string& when) {
  std::cout << "readings:  (" << when << ")\n"
            << "  idle:    " << IntOr(r, "idle_minutes", 0) << " min, from "
            << StringOr(r, "idle_source", "?") << "\n"
            << "  network: " << (BoolOr(r, "unmetered_network", true) ? "unmetered" : "metered")
            << ", from " << StringOr(r, "network_source", "?") << "\n"
            << "  power:   " << (BoolOr(r, "on_ac_power", true) ? "on AC" : "on battery");
  if (IntOr(r, "battery_percent", -1) >= 0) {
    std::cout << ", battery " << IntOr(r, "battery_percent", -1) << "%";
  }
  std::cout << "\n";
}

void PrintPolicy(const runtime::ParticipationPolicy& p) {
  std::cout << "policy:    (" << runtime::kParticipationPolicyFile
            << ", the coordinator cannot lower it)\n"
            << "  refuse rounds with a cohort below " << p.min_cohort_size
            << " or a secure aggregation threshold below " << p.min_secagg_threshold << "\n"
            << "  own DP noise share assumes at least " << p.min_survivors
            << " survivors; less noise from the coordinator is refused\n"
            << "  at most " << p.max_rounds_per_day << " rounds per day (UTC)\n";
}

void PrintStatus(const std::string& dir, const StatusFacts& f) {
  if (f.enrollment.ok()) {
    std::cout << "enrolled:  device '" << f.enrollment->device_id << "', coordinator "
              << f.enrollment->coordinator << "\n";
  } else {
    std::cout << "enrolled:  no (" << f.enrollment.status().message() << ")\n";
  }
  std::cout << "           coordinator certificate: " << PinText(f.enrollment) << "\n";
  std::cout << f.collector;
  std::cout << "training:  "
            << (!f.control_problem.empty()
                    ? absl::StrCat("stopped: ", f.control_problem)
                    : (f.control.training_paused ? std::string("paused by you")
                                                 : std::string("allowed")))
            << "\n";
  if (f.daemon.is_object()) {
    const nlohmann::json& d = f.daemon;
    std::cout << "daemon:    " << StringOr(d, "state", "?") << " (" << StringOr(d, "detail", "")
              << "), pid " << IntOr(d, "pid", 0) << ", updated " << StringOr(d, "updated", "")
              << "\nmodel:     version " << IntOr(d, "model_version", -1) << ", rounds joined "
              << IntOr(d, "rounds_joined", 0) << ", included " << IntOr(d, "rounds_included", 0)
              << "\n";
  } else {
    std::cout << "daemon:    has not run here (tacit-client run)\n";
  }
  std::cout << "noise:     " << NoiseText(f) << "\n";
  PrintReadings(f.readings, f.readings_now ? "read now" : "the daemon's last check");
  PrintPolicy(f.policy);
  std::cout << "privacy:   (" << runtime::kPrivacyLedgerFile
            << ", computed here; tacit-client privacy for details)\n";
  PrintPrivacySpending(std::cout, f.ledger, f.policy, /*with_pld=*/false);
  std::cout << "\nKept on this laptop, never sent: the stored events (tacit-client inspect), "
               "the readings, the policies, the privacy ledger, the audit log"
            << (f.personal ? " and the personal model" : "") << ".\n";
  if (f.personal) {
    const runtime::PersonalModelInfo& p = *f.personal;
    std::cout << "personal:  fine-tuned from global version " << p.base_version << " of task '"
              << p.task << "' (" << p.steps << " steps on " << p.train_tokens << " of your tokens, "
              << p.created << "); top-1 on your held-out activity " << p.personal_top1
              << " (global model " << p.global_top1 << "); used by tacit-client predict\n";
  } else if (!f.personal_problem.empty()) {
    std::cout << "personal:  " << f.personal_problem << "\n";
  }
  std::cout << "Left this laptop (" << dir << "/" << runtime::kAuditLogFile
            << "; tacit-client audit for per-day totals):\n"
            << "  sent " << f.totals.bytes_up << " bytes, received " << f.totals.bytes_down
            << " bytes, rounds joined " << f.totals.rounds_joined << " ("
            << f.totals.rounds_joined_today << " today), check-ins " << f.totals.check_ins << "\n";
  if (f.audit_lines == 0) {
    std::cout << "  nothing yet: the audit log is empty\n";
  } else if (f.newest.empty()) {
    std::cout << "  " << f.audit_lines
              << " audit lines (none shown: --last N shows the newest N)\n";
  } else {
    std::cout << "  the newest " << f.newest.size() << " of " << f.audit_lines
              << " audit lines, newest last:\n";
    for (const auto& line : f.newest) std::cout << "    " << line.dump() << "\n";
  }
  std::cout << "Only what is counted under \"Left this laptop\" was sent: "
            << runtime::kWhatTheCallsCarry << ".\n";
}

}  // namespace

void AddStatusCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    size_t last = 5;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Show the enrollment, the switches, the daemon, the task's noise, the privacy spent, and "
      "what left this laptop (read from the client's folder alone)");
  cmd->add_option("--last", args->last, "Audit log lines to show")->capture_default_str();
  cmd->add_flag("--json", args->json, "The same facts as JSON");
  cmd->callback([args, context] {
    const StatusFacts facts = Gather(context->dir, args->last);
    if (args->json) {
      std::cout << StatusJson(context->dir, facts).dump(2) << "\n";
      return;
    }
    PrintStatus(context->dir, facts);
  });
}

}  // namespace tacit::cli
