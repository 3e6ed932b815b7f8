// `tacit-coordinator serve`: run a task's rounds for the fleet.

#include <iostream>
#include <memory>

#include "coordinator/cli_commands.h"
#include "coordinator/service/coordinator_server.h"

namespace tacit::coordinator {

void AddServeCommand(CLI::App& app, CommandAction* action) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Run a federated task: gRPC with mutual TLS for clients, /metrics and /status");
  serve->add_option("--config", options->config_path, "Task config (JSON, docs/coordinator.md)")
      ->required()
      ->check(CLI::ExistingFile);
  serve->add_option("--state", options->state_dir, "State folder (created if missing)")->required();
  serve->add_option("--pki", options->pki_dir, "PKI folder made by `pki init`")
      ->required()
      ->check(CLI::ExistingDirectory);
  serve->add_option("--listen", options->listen, "gRPC address for clients (port 0: any free)")
      ->capture_default_str();
  serve
      ->add_option("--metrics", options->metrics_listen,
                   "Operator HTTP address for /metrics and /status; empty disables it")
      ->capture_default_str();
  serve
      ->add_option("--population", options->population,
                   "Enrolled devices, recorded with each committed round (0: the device "
                   "certificates in PKI/devices); not the DP sampling rate, which is the "
                   "task's dp.sampling")
      ->capture_default_str();
  serve
      ->add_option("--check-ins-per-minute", options->check_ins_per_minute,
                   "Per-device check-in rate limit")
      ->capture_default_str();
  serve
      ->add_option("--long-poll-seconds", options->long_poll_seconds,
                   "How long a client's waiting call is held before it asks again")
      ->capture_default_str();
  serve
      ->add_option("--grpc-memory-mib", options->grpc_memory_mib,
                   "Memory quota of gRPC's transport buffers over all connections; above 80% "
                   "of it reads use small buffers, above it idle connections' buffers are "
                   "freed. Raised to the cohort's uploads in flight at once when smaller "
                   "(logged as transport_memory_quota), since those must fit (0: no quota)")
      ->capture_default_str();
  serve->add_flag("--force-weak-secure-agg", options->force_weak_secure_agg,
                  "Serve secure_agg threshold/neighbors overrides whose bounds are worse than "
                  "the targets and the automatic choice (see check-config; logged as a warning)");
  serve->add_flag("--exit-when-done", options->exit_when_done,
                  "Exit once every round of the task is committed");
  serve->callback([options, action] {
    *action = [options] {
      absl::Status s = Serve(*options);
      if (!s.ok()) {
        std::cerr << "tacit-coordinator serve: " << s.message() << "\n";
        return 1;
      }
      return 0;
    };
  });
}

}  // namespace tacit::coordinator
