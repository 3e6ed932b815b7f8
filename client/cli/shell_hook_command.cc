// tacit-client shell-hook bash|zsh: prints the snippet for the owner's rc
// file (client/collector/shell_hook_snippet.h). It names tacit-shell-event
// beside this tacit-client and the collector's socket in --dir, so the rc
// file does not start tacit-client (and its libraries) with every shell.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "client/cli/owner_commands.h"
#include "client/collector/shell_event.h"
#include "client/collector/shell_hook_snippet.h"

namespace tacit::cli {

void AddShellHookCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "shell-hook",
      "Print the lines for ~/.bashrc or ~/.zshrc that tell the collector the NAME of each "
      "command you run, never its arguments (append them: tacit-client shell-hook bash >> "
      "~/.bashrc)");
  cmd->add_option("shell", *shell, "bash or zsh")->required();
  cmd->callback([shell, context]() {
    absl::StatusOr<std::string> snippet = collector::ShellHookSnippet(
        *shell, InstalledProgramDir() + "/tacit-shell-event",
        std::filesystem::absolute(context->dir).string() + "/" + collector::kShellSocketFile);
    FailIfError(snippet.status());
    std::cout << *snippet;
  });
}

}  // namespace tacit::cli
