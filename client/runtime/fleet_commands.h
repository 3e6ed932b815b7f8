#pragma once

// The fleet subcommands of tacit-client: enroll, run, status, leave, audit, predict.

#include <memory>

#include "client/cli/cli_context.h"

namespace tacit::cli {

void AddEnrollCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddRunCommand(CLI::App& app, std::shared_ptr<CliContext> context);
void AddStatusCommand(CLI::App& app, std::shared_ptr<CliContext> context);
// `leave`: unenroll and erase everything (leave_fleet.h).
void AddLeaveCommand(CLI::App& app, std::shared_ptr<CliContext> context);
// `audit`: what left this laptop, per day and task (audit_summary.h).
void AddAuditCommand(CLI::App& app, std::shared_ptr<CliContext> context);
// `predict`: the next events by the personal (or global) model, computed here.
void AddPredictCommand(CLI::App& app, std::shared_ptr<CliContext> context);

}  // namespace tacit::cli
