#pragma once

// Subcommands of `tacit-coordinator`. Each lives in its own file and adds
// itself to the app with an Add...Command function; when its subcommand is
// chosen, CLI11 stores the action to run in `*action`, and main runs it after
// parsing. A new subcommand (serve, status) is one new file plus one line in
// main.cc.

#include <functional>

#include "CLI/CLI.hpp"

namespace tacit::coordinator {

// Returns the process exit code.
using CommandAction = std::function<int()>;

// `pki init DIR`, `pki issue DEVICE`.
void AddPkiCommand(CLI::App& app, CommandAction* action);
// `check-config FILE`.
void AddCheckConfigCommand(CLI::App& app, CommandAction* action);
// `privacy --rounds R --sampling-rate q --noise-multiplier z --delta d`.
void AddPrivacyCommand(CLI::App& app, CommandAction* action);

// `serve` and `status` (coordinator/service/).
void AddServeCommand(CLI::App& app, CommandAction* action);
void AddStatusCommand(CLI::App& app, CommandAction* action);

}  // namespace tacit::coordinator
