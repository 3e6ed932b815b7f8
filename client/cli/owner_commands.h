#pragma once

// The owner's subcommands of tacit-client. Each Add*Command registers one
// subcommand (its options and its action) on `app`.

#include <memory>

#include "client/cli/cli_context.h"

namespace tacit::cli {

void AddImportCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddInspectCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddEraseCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddPauseResumeCommands(CLI::App& app, std::shared_ptr<CliContext> context);
// `generate-activity`: synthetic events from the built-in generator (marked as such).
void AddGenerateActivityCommand(CLI::App& app, std::shared_ptr<CliContext> context);
// `collect`: execs tacit-collector (client/collector/) beside this program.
void AddCollectCommand(CLI::App& app, std::shared_ptr<CliContext> context);
// `shell-hook bash|zsh`: the rc-file lines that send command names to the collector.
void AddShellHookCommand(CLI::App& app, std::shared_ptr<CliContext> context);

}  // namespace tacit::cli
