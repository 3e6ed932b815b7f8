// tacit-client audit: what left this laptop, per day and task
// (audit_summary.h); --json for the same rows, --raw for the log's lines.

#include <CLI/CLI.hpp>
#include <iostream>
#include <limits>

#include "client/runtime/audit_log.h"
#include "client/runtime/audit_summary.h"
#include "client/runtime/fleet_commands.h"
#include "client/runtime/participation_policy.h"

namespace tacit::cli {

void AddAuditCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    bool json = false, raw = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "What left this laptop, per day and task: rounds joined and declined, bytes sent and "
      "received, the noise level and the epsilon spent");
  CLI::Option* json = cmd->add_flag("--json", args->json, "The summary as JSON");
  cmd->add_flag("--raw", args->raw, "Every line of the audit log as written")->excludes(json);
  cmd->callback([args, context] {
    if (args->raw) {
      auto lines = runtime::ReadAudit(context->dir, std::numeric_limits<size_t>::max());
      FailIfError(lines.status());
      for (const auto& line : *lines) std::cout << line.dump() << "\n";
      return;
    }
    auto policy = runtime::LoadParticipationPolicy(context->dir);
    FailIfError(policy.status());
    auto days = runtime::SummarizeAudit(context->dir, policy->delta);
    FailIfError(days.status());
    if (args->json) {
      std::cout << nlohmann::json{{"audit_log", context->dir + "/" + runtime::kAuditLogFile},
                                  {"delta", policy->delta},
                                  {"days", runtime::AuditSummaryJson(*days)}}
                       .dump(2)
                << "\n";
      return;
    }
    std::cout << "What left this laptop (" << context->dir << "/" << runtime::kAuditLogFile
              << "; --raw for every line):\n";
    runtime::PrintAuditSummary(std::cout, *days);
    std::cout << "These rows count every call that left: " << runtime::kWhatTheCallsCarry << ".\n";
  });
}

}  // namespace tacit::cli
