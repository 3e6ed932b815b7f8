#pragma once

// `tacit-client dashboard` (dashboard_server.h).

#include <memory>

#include "client/cli/cli_context.h"

namespace tacit::cli {

void AddDashboardCommand(CLI::App& app, std::shared_ptr<CliContext> context);

}  // namespace tacit::cli
