#pragma once

// `tacit-client install-service`: writes the systemd user units
// (client/runtime/user_units.h) and prints the systemctl commands that start
// them; runs them itself only with --enable.

#include <memory>

#include "client/cli/cli_context.h"

namespace tacit::cli {

void AddInstallServiceCommand(CLI::App& app, std::shared_ptr<CliContext> context);

}  // namespace tacit::cli
