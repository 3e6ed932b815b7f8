// tacit-client collect: runs the live collector. The collector is its own
// small program, tacit-collector, installed beside tacit-client, so that the
// long-running process does not carry LibTorch and gRPC (tacit-client with
// them takes ~170 MiB; the collector under 30). `collect` execs it in place:
// same process, same signals, same exit code.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/owner_commands.h"

namespace tacit::cli {

void AddCollectCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    std::string display, batch_seconds;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "collect",
      "Collect this X11 session's activity (key classes, shortcuts, clicks, app switches) and "
      "the names of commands run in shells with the shell hook (never typed text, arguments "
      "or window titles) into the encrypted store, until stopped; without a display, shell "
      "command names only");
  cmd->add_option("--display", args->display, "The X display; default $DISPLAY");
  cmd->add_option("--batch-seconds", args->batch_seconds,
                  "Write collected events to the store at least this often (default 5)");
  cmd->callback([args, context]() {
#ifndef TACIT_HAVE_X11_COLLECTOR
    (void)args;
    (void)context;
    Fail(absl::FailedPreconditionError(
        "this tacit-client was built without the X11 collector (libx11-dev and libxi-dev were "
        "missing); install them (scripts/setup) and rebuild"));
#else
    const std::string collector = InstalledProgramDir() + "/tacit-collector";
    std::vector<std::string> argv = {collector, "--dir", context->dir};
    if (!args->display.empty()) argv.insert(argv.end(), {"--display", args->display});
    if (!args->batch_seconds.empty())
      argv.insert(argv.end(), {"--batch-seconds", args->batch_seconds});
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    ::execv(collector.c_str(), c_argv.data());
    Fail(absl::NotFoundError(absl::StrCat("cannot start the collector '", collector, "' (",
                                          std::strerror(errno),
                                          "); it is installed beside tacit-client")));
#endif
  });
}

}  // namespace tacit::cli
