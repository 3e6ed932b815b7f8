// tacit-client enroll | run | status: joining a fleet and taking part in its
// training rounds.

#include "client/runtime/fleet_commands.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/collector/heartbeat.h"
#include "client/control_state.h"
#include "client/runtime/audit_log.h"
#include "client/runtime/coordinator_pin.h"
#include "client/runtime/daemon.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_command.h"
#include "client/runtime/privacy_ledger.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "nlohmann/json.hpp"

namespace tacit::cli {

void AddEnrollCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    std::string coordinator, ca, cert, key, server_name, credential, fingerprint;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "enroll", "Join a fleet with this device's certificate (issued by the fleet operator)");
  cmd->add_option("--coordinator", args->coordinator, "The coordinator's HOST:PORT")->required();
  cmd->add_option("--ca", args->ca, "The fleet CA certificate (ca.crt)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--cert", args->cert, "This device's certificate")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--key", args->key, "This device's private key (stored 0600)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--credential", args->credential,
                  "This device's SecAgg credential (default: the .cred next to --cert)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--server-name", args->server_name,
                  "The name in the coordinator's certificate, when HOST differs");
  cmd->add_option("--server-fingerprint", args->fingerprint,
                  "Enroll without reaching the coordinator: pin this SHA-256 fingerprint of its "
                  "certificate (from the operator); checked at the first connection");
  cmd->callback([args, context] {
    FailIfError(MakeDirectories(context->dir, 0700));
    FailIfError(runtime::Enroll(context->dir, args->coordinator, args->ca, args->cert, args->key,
                                args->server_name, args->credential));
    auto enrollment = runtime::LoadEnrollment(context->dir);
    FailIfError(enrollment.status());
    // coordinator_pin.h: the laptop's own check of whom it talks to.
    std::string fingerprint = args->fingerprint;
    if (fingerprint.empty()) {
      absl::StatusOr<std::string> presented =
          runtime::FetchCoordinatorCertificate(*enrollment, /*timeout_seconds=*/10);
      absl::StatusOr<std::string> measured =
          presented.ok() ? runtime::CertificateFingerprint(*presented) : presented.status();
      if (!measured.ok()) {
        (void)runtime::Unenroll(context->dir);
        std::cerr << "Not enrolled: the coordinator could not be verified.\n";
        Fail(measured.status());
      }
      fingerprint = *measured;
      std::cout << "The coordinator at " << args->coordinator
                << " presented a certificate from the fleet CA with SHA-256 fingerprint\n  "
                << fingerprint
                << "\nCompare it with the one your operator gave you; it is pinned now and the "
                   "laptop refuses any other.\n";
    }
    if (absl::Status pinned = runtime::PinCoordinator(context->dir, fingerprint); !pinned.ok()) {
      (void)runtime::Unenroll(context->dir);
      Fail(pinned);
    }
    std::cout << "Enrolled as device '" << enrollment->device_id << "' with coordinator "
              << args->coordinator << ".\nThe device key is in " << context->dir
              << "/fleet/device.key (readable only by you).\n"
              << kStaysHere << "\n";
  });
}

void AddRunCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  auto options = std::make_shared<runtime::DaemonOptions>();
  struct Overrides {
    std::string ac;  // "", "yes", "no"
    int battery = -2, idle = -1, hour = -1;
    bool metered = false;
    std::string unknown_network = "unmetered";
  };
  auto overrides = std::make_shared<Overrides>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Take part in federated training rounds when idle, charging and unmetered");
  cmd->add_option("--threads", options->runner.threads, "Training threads (CPU budget)")
      ->capture_default_str();
  cmd->add_option("--max-train-seconds", options->runner.max_train_seconds,
                  "Wall-clock budget per round's training (0: the task's)")
      ->capture_default_str();
  cmd->add_option("--check-seconds", options->idle_check_seconds,
                  "Seconds between checks while paused or ineligible")
      ->capture_default_str();
  cmd->add_option("--check-in-jitter-seconds", options->check_in_jitter_seconds,
                  "Each check-in waits a random 0..this many seconds first, so the coordinator "
                  "cannot tell when this laptop became idle")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-backoff-seconds", options->max_backoff_seconds,
                  "Longest wait after repeated failures")
      ->capture_default_str();
  cmd->add_option("--max-retry-seconds", options->max_retry_seconds,
                  "Longest wait the coordinator may ask for")
      ->capture_default_str();
  cmd->add_option("--ac-power", overrides->ac,
                  "Override the AC power reading (/sys/class/power_supply)")
      ->check(CLI::IsMember({"yes", "no"}));
  cmd->add_option("--battery-percent", overrides->battery, "Override the battery reading");
  cmd->add_option("--idle-minutes", overrides->idle,
                  "Override the idle reading (logind's IdleHint, else the newest /dev/pts, "
                  "/dev/tty access)");
  cmd->add_option("--hour", overrides->hour, "Override the local hour (0-23)");
  cmd->add_flag("--metered", overrides->metered,
                "This network is metered, whatever NetworkManager says: do not train");
  cmd->add_option("--unknown-network", overrides->unknown_network,
                  "What a network counts as when NetworkManager cannot say")
      ->check(CLI::IsMember({"metered", "unmetered"}))
      ->capture_default_str();
  cmd->add_flag("--exit-when-task-complete", options->exit_when_task_complete,
                "Exit when the coordinator says every round of its task is committed");
  cmd->add_option("--max-download-bytes", options->runner.max_download_bytes,
                  "Model bytes one assignment (check-in) may download (metered or mobile data; "
                  "0: no limit). "
                  "A partial download is kept and continues at the next assignment")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([options, overrides, context] {
    runtime::DaemonOptions run = *options;
    run.dir = context->dir;
    if (!overrides->ac.empty()) run.overrides.on_ac_power = overrides->ac == "yes";
    if (overrides->battery >= -1) run.overrides.battery_percent = overrides->battery;
    if (overrides->idle >= 0) run.overrides.idle_minutes = overrides->idle;
    if (overrides->hour >= 0) run.overrides.local_hour = overrides->hour;
    if (overrides->metered) run.overrides.unmetered_network = false;
    run.overrides.unknown_network_is_metered = overrides->unknown_network == "metered";
    FailIfError(runtime::RunDaemon(run));
  });
}

namespace {

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
            << "  at most " << p.max_rounds_per_day << " rounds per day (UTC)\n"
            << "  privacy budget per task: "
            << (p.max_epsilon ? absl::StrCat("epsilon ", *p.max_epsilon, " at delta ", p.delta)
                              : std::string("none set"))
            << "\n";
}

}  // namespace

void AddStatusCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  auto last = std::make_shared<size_t>(5);
  CLI::App* cmd = app.add_subcommand(
      "status", "Show the fleet enrollment, the daemon's state and what left this laptop");
  cmd->add_option("--last", *last, "Audit log lines to show")->capture_default_str();
  cmd->callback([last, context] {
    auto enrollment = runtime::LoadEnrollment(context->dir);
    if (enrollment.ok()) {
      std::cout << "enrolled:  device '" << enrollment->device_id << "', coordinator "
                << enrollment->coordinator << "\n";
    } else {
      std::cout << "enrolled:  no (" << enrollment.status().message() << ")\n";
    }
    auto control = LoadControlState(context->dir);
    std::cout << collector::DescribeHeartbeat(collector::ReadHeartbeat(context->dir), NowMs());
    std::cout << "training:  "
              << (control.ok() && control->training_paused ? "paused by you" : "allowed") << "\n";
    auto daemon = ReadFileToString(context->dir + "/" + runtime::kDaemonStatusFile);
    nlohmann::json readings;
    if (daemon.ok()) {
      absl::StatusOr<nlohmann::json> parsed = ParseJson(*daemon, runtime::kDaemonStatusFile);
      const nlohmann::json d = parsed.ok() ? *std::move(parsed) : nlohmann::json();
      if (d.is_object()) {
        std::cout << "daemon:    " << StringOr(d, "state", "?") << " (" << StringOr(d, "detail", "")
                  << "), pid " << IntOr(d, "pid", 0) << ", updated " << StringOr(d, "updated", "")
                  << "\nmodel:     version " << IntOr(d, "model_version", -1) << ", rounds joined "
                  << IntOr(d, "rounds_joined", 0) << ", included " << IntOr(d, "rounds_included", 0)
                  << "\n";
        if (d.contains("readings")) readings = d["readings"];
      }
    } else {
      std::cout << "daemon:    has not run here (tacit-client run)\n";
    }
    // The daemon's last readings (with its overrides); read now without it.
    const bool now = readings.is_null();
    if (now) readings = runtime::ReadingsToJson(runtime::ReadDevice({}));
    PrintReadings(readings, now ? "read now" : "the daemon's last check");
    auto policy = runtime::LoadParticipationPolicy(context->dir);
    FailIfError(policy.status());
    PrintPolicy(*policy);
    auto ledger = runtime::ReadLedger(context->dir);
    FailIfError(ledger.status());
    std::cout << "privacy:   (" << runtime::kPrivacyLedgerFile
              << ", computed here; tacit-client privacy for details)\n";
    PrintPrivacySpending(std::cout, *ledger, *policy, /*with_pld=*/false);
    auto totals = runtime::SumAudit(context->dir);
    FailIfError(totals.status());
    std::cout << "totals:    sent " << totals->bytes_up << " bytes, received " << totals->bytes_down
              << " bytes, rounds joined " << totals->rounds_joined << " ("
              << totals->rounds_joined_today << " today), check-ins " << totals->check_ins << "\n";
    auto audit = runtime::ReadAudit(context->dir, *last);
    FailIfError(audit.status());
    std::cout << "sent from this laptop (" << runtime::kAuditLogFile << ", newest last):\n";
    if (audit->empty()) std::cout << "  nothing yet\n";
    for (const auto& line : *audit) std::cout << "  " << line.dump() << "\n";
    std::cout << kStaysHere << "\n";
  });
}

}  // namespace tacit::cli
