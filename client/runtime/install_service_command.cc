#include "client/runtime/install_service_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/runtime/command_runner.h"
#include "client/runtime/user_units.h"
#include "common/file_io.h"

namespace tacit::cli {
namespace {

// $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user: where the
// user's systemd manager looks for units.
std::string DefaultUnitDir() {
  const char* config = std::getenv("XDG_CONFIG_HOME");
  if (config != nullptr && config[0] == '/') return std::string(config) + "/systemd/user";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/systemd/user";
}

void RunSystemctl(const std::vector<std::string>& argv) {
  std::cout << "running: " << absl::StrJoin(argv, " ") << "\n";
  absl::StatusOr<runtime::CommandResult> ran = runtime::RunCommand(argv, 60);
  FailIfError(ran.status());
  std::cout << ran->output << ran->errors;
  if (ran->exit_code != 0) {
    Fail(absl::FailedPreconditionError(absl::StrCat(
        absl::StrJoin(argv, " "), " exited with ", ran->exit_code,
        "; the units are written, run it yourself once the user's systemd is available")));
  }
}

}  // namespace

void AddInstallServiceCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    std::string unit_dir, for_package;
    bool enable = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "install-service",
      "Write systemd USER units for the collector and the fleet daemon (they run as you, never "
      "as root) and print the systemctl commands that start them");
  cmd->add_option("--dir", context->dir, "The client's folder (same as tacit-client --dir)");
  cmd->add_option("--unit-dir", args->unit_dir,
                  "Where to write the units; default $XDG_CONFIG_HOME/systemd/user or "
                  "~/.config/systemd/user");
  cmd->add_flag("--enable", args->enable,
                "Also run `systemctl --user daemon-reload` and `systemctl --user enable --now` on "
                "them (by default only printed)");
  // The build writes the units the Debian package ships with this (hidden).
  cmd->add_option("--for-package", args->for_package,
                  "Write the units for a package whose programs are in this folder, for "
                  "every user's ~/.local/share/tacit")
      ->group("");
  cmd->callback([args, context]() {
    const std::string unit_dir = args->unit_dir.empty() ? DefaultUnitDir() : args->unit_dir;
    runtime::UserUnitOptions options;
    options.program_dir = InstalledProgramDir();
    options.with_collector =
        ::access((options.program_dir + "/tacit-collector").c_str(), X_OK) == 0;
    const bool for_package = !args->for_package.empty();
    if (for_package) {
      options.program_dir = args->for_package;
      options.client_dir = runtime::kPackagedClientDir;
    } else {
      options.client_dir = std::filesystem::absolute(context->dir).lexically_normal().string();
      while (options.client_dir.size() > 1 && options.client_dir.back() == '/') {
        options.client_dir.pop_back();
      }
    }
    absl::StatusOr<std::vector<runtime::UserUnit>> units = runtime::MakeUserUnits(options);
    FailIfError(units.status());
    // The units make everything but this folder read-only: it must exist.
    if (!for_package) FailIfError(MakeDirectories(options.client_dir, 0700));
    FailIfError(MakeDirectories(unit_dir, 0755));
    std::vector<std::string> names;
    for (const runtime::UserUnit& unit : *units) {
      const std::string path = unit_dir + "/" + unit.name;
      FailIfError(WriteFileAtomically(path, unit.text, 0644));
      std::cout << "wrote " << path << "\n";
      names.push_back(unit.name);
    }
    if (for_package) return;
    if (!options.with_collector) {
      std::cout << "no collector unit: this build has no tacit-collector (libx11-dev and "
                   "libxi-dev were missing)\n";
    }
    const std::vector<std::string> reload = {"systemctl", "--user", "daemon-reload"};
    std::vector<std::string> enable = {"systemctl", "--user", "enable", "--now"};
    enable.insert(enable.end(), names.begin(), names.end());
    if (args->enable) {
      RunSystemctl(reload);
      RunSystemctl(enable);
      return;
    }
    std::cout << "To start them now and at every login:\n  " << absl::StrJoin(reload, " ") << "\n  "
              << absl::StrJoin(enable, " ")
              << "\nThe collector starts with your graphical session (on a machine without one: "
                 "systemctl --user add-wants default.target tacit-collector.service); the "
                 "daemon starts once this laptop is enrolled (tacit-client enroll, then "
                 "systemctl --user start tacit-daemon.service).\n";
  });
}

}  // namespace tacit::cli
