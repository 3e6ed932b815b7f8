// tacit-client enroll | run: joining a fleet and taking part in its training
// rounds (status: status_command.cc).

#include "client/runtime/fleet_commands.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/runtime/coordinator_pin.h"
#include "client/runtime/daemon.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/fleet_channel.h"
#include "common/file_io.h"
#include "common/secure_random.h"
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
    // Everything is read and verified in memory first, the coordinator
    // included; only then is the enrollment written, in one step
    // (SaveEnrollment). A refused enroll leaves the previous enrollment, or
    // none, exactly as it was.
    absl::StatusOr<runtime::Enrollment> enrollment = runtime::ReadEnrollmentFiles(
        args->coordinator, args->ca, args->cert, args->key, args->server_name, args->credential);
    FailIfError(enrollment.status());
    // The key is wiped from memory however this command ends.
    struct WipeKey {
      std::string* key;
      ~WipeKey() { Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(key->data()), key->size())); }
    } wipe{&enrollment->key_pem};
    // coordinator_pin.h: the laptop's own check of whom it talks to.
    if (!args->fingerprint.empty()) {
      absl::StatusOr<std::string> given = runtime::NormalizeFingerprint(args->fingerprint);
      FailIfError(given.status());
      enrollment->server_sha256 = *given;
    } else {
      absl::StatusOr<std::string> presented =
          runtime::FetchCoordinatorCertificate(*enrollment, /*timeout_seconds=*/10);
      absl::StatusOr<std::string> measured =
          presented.ok() ? runtime::CertificateFingerprint(*presented) : presented.status();
      if (!measured.ok()) {
        std::cerr << "Not enrolled: the coordinator could not be verified; nothing was changed.\n";
        Fail(measured.status());
      }
      enrollment->server_sha256 = *measured;
      std::cout << "The coordinator at " << args->coordinator
                << " presented a certificate from the fleet CA with SHA-256 fingerprint\n  "
                << enrollment->server_sha256
                << "\nCompare it with the one your operator gave you; it is pinned now and the "
                   "laptop refuses any other, in the TLS handshake, before anything is sent.\n";
    }
    FailIfError(MakeDirectories(context->dir, 0700));
    FailIfError(runtime::SaveEnrollment(context->dir, *enrollment));
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

}  // namespace tacit::cli
