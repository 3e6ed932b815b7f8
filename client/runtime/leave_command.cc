// tacit-client leave: unenroll and erase everything (leave_fleet.h), after
// asking, and say plainly what cannot be undone.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "client/runtime/fleet_commands.h"
#include "client/runtime/leave_fleet.h"

namespace tacit::cli {
namespace {

std::string Ask(const std::string& question) {
  std::cout << question << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer;
}

}  // namespace

void AddLeaveCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    bool yes = false;
    std::string keep_audit_log;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "leave",
      "Leave the fleet: delete this laptop's fleet identity and keys, and erase every event, "
      "the model, the privacy ledger and the audit log");
  cmd->add_flag("--yes", args->yes, "Do not ask; erase the audit log unless --keep-audit-log");
  cmd->add_option("--keep-audit-log", args->keep_audit_log,
                  "Keep a copy of the audit log (what left this laptop) at this path, outside "
                  "the client's folder");
  cmd->callback([args, context] {
    runtime::LeaveOptions options;
    options.keep_audit_log = args->keep_audit_log;
    if (!args->yes) {
      if (!::isatty(STDIN_FILENO)) {
        Fail(absl::FailedPreconditionError(
            "leave erases everything and asks first; without a terminal pass --yes (and "
            "--keep-audit-log FILE to keep a copy of the audit log)"));
      }
      std::cout << "This deletes this laptop's fleet identity (device key, certificate, SecAgg "
                   "credential) and erases every stored event, the model, the privacy ledger "
                   "and the audit log in "
                << context->dir << ".\n";
      if (Ask("Type 'leave' to go on: ") != "leave") {
        std::cout << "Nothing was changed.\n";
        return;
      }
      if (options.keep_audit_log.empty()) {
        options.keep_audit_log =
            Ask("Keep a copy of the audit log (what left this laptop)? A file path to keep it, "
                "empty to erase it [erase]: ");
      }
    }
    absl::StatusOr<runtime::LeaveReport> report = runtime::LeaveFleet(context->dir, options);
    FailIfError(report.status());
    std::cout << (report->device_id.empty()
                      ? std::string("This laptop was not enrolled in a fleet.")
                      : "Left the fleet: the identity of device '" + report->device_id +
                            "' is deleted (its key overwritten first).")
              << "\n";
    if (report->events_erased >= 0) {
      std::cout << "Erased " << report->events_erased
                << " stored events (database pages overwritten), then the store and its key.\n";
    } else {
      std::cout << "The store could not be read; its files and key were deleted.\n";
    }
    std::cout << "Removed " << report->removed.size()
              << " files and folders: events, model, privacy ledger, audit log, policies, "
                 "status.\n";
    if (!report->audit_copy.empty()) {
      std::cout << "A copy of the audit log is kept at " << report->audit_copy << ".\n";
    }
    for (const std::string& other : report->left_in_place) {
      std::cout << "  left in place (not written by tacit-client): " << other << "\n";
    }
    std::cout << "What cannot be undone: the " << report->rounds_joined
              << " round(s) this laptop took part in sent masked, noised updates that were "
                 "summed with others' into the fleet's global model; they remain in it and no "
                 "one can take them out. The coordinator keeps this device's certificate and "
                 "check-in records until the operator revokes it (tacit-coordinator pki "
                 "revoke).\n";
  });
}

}  // namespace tacit::cli
