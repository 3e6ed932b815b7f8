#pragma once

// The fleet subcommands of tacit-client: enroll, run, status.

#include <memory>

#include "client/cli/cli_context.h"

namespace tacit::cli {

void AddEnrollCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddRunCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddStatusCommand(CLI::App& app, std::shared_ptr<CliContext> context);

}  // namespace tacit::cli
