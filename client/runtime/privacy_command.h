#pragma once

// `tacit-client privacy`: the epsilon this laptop spent, per task, computed
// here from its own privacy ledger (privacy_ledger.h) at the owner's delta,
// and the budget left (participation_policy.h). `tacit-client status` shows
// the short form.

#include <memory>
#include <ostream>

#include "client/cli/cli_context.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_ledger.h"

namespace tacit::cli {

void AddPrivacyCommand(CLI::App& app, std::shared_ptr<CliContext> context);

// Per task: participations, epsilon (released and against the coordinator),
// budget left; damaged lines first. `with_pld` adds the PLD accountant's
// (tighter) figure for the released models, which takes up to a second or so
// per task.
void PrintPrivacySpending(std::ostream& out, const runtime::Ledger& ledger,
                          const runtime::ParticipationPolicy& policy, bool with_pld);

}  // namespace tacit::cli
