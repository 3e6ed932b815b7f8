// tacit-client: the program on each employee's laptop. This file only wires
// subcommands together; each lives in its own file (client/cli/*_command.cc).

#include <CLI/CLI.hpp>
#include <memory>

#include "client/cli/owner_commands.h"
#include "client/control_state.h"
#include "client/dashboard/dashboard_command.h"
#include "client/runtime/fleet_commands.h"
#include "client/runtime/install_service_command.h"
#include "client/runtime/privacy_command.h"
#include "models/blas_kernels.h"

int main(int argc, char** argv) {
  CLI::App app{
      "tacit-client: your computer activity stays on this laptop, encrypted; only clipped, "
      "securely aggregated (masked) model updates ever leave it."};
  auto context = std::make_shared<tacit::cli::CliContext>();
  context->dir = tacit::DefaultClientDirectory();
  app.add_option("--dir", context->dir,
                 "The client's folder (store, key, policy); default $TACIT_CLIENT_DIR or "
                 "~/.local/share/tacit")
      ->capture_default_str();
  app.require_subcommand(1);
  tacit::cli::AddImportCommand(app, context);
  tacit::cli::AddGenerateActivityCommand(app, context);
  tacit::cli::AddInspectCommand(app, context);
  tacit::cli::AddEraseCommand(app, context);
  tacit::cli::AddPauseResumeCommands(app, context);
  tacit::cli::AddCollectCommand(app, context);
  tacit::cli::AddShellHookCommand(app, context);
  tacit::cli::AddEnrollCommand(app, context);
  tacit::cli::AddRunCommand(app, context);
  tacit::cli::AddStatusCommand(app, context);
  tacit::cli::AddAuditCommand(app, context);
  tacit::cli::AddPredictCommand(app, context);
  tacit::cli::AddLeaveCommand(app, context);
  tacit::cli::AddDashboardCommand(app, context);
  tacit::cli::AddPrivacyCommand(app, context);
  tacit::cli::AddInstallServiceCommand(app, context);
  // Only `run` trains: the BLAS probe and its restart (~0.7 s, the program
  // loaded twice) are for it alone. Called as `run` is parsed, before its
  // callback starts any thread.
  app.get_subcommand("run")->preparse_callback(
      [argv](std::size_t) { tacit::UseBestBlasKernels(argv); });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
