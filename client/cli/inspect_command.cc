// tacit-client inspect: what is kept on this laptop, in plain words.

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/owner_commands.h"
#include "client/control_state.h"
#include "client/store/event_store.h"

namespace tacit::cli {
namespace {

void PrintCounts(const StoreSummary& s) {
  // One row per day, one column per kind that occurs.
  std::map<std::string, std::map<EventKind, int64_t>> by_day;
  std::map<EventKind, bool> kinds;
  for (const KindDayCount& c : s.counts) {
    by_day[c.day][c.kind] = c.count;
    kinds[c.kind] = true;
  }
  std::cout << absl::StrFormat("  %-10s", "day");
  for (const auto& [kind, unused] : kinds)
    std::cout << absl::StrFormat(" %13s", EventKindName(kind));
  std::cout << "\n";
  for (const auto& [day, counts] : by_day) {
    std::cout << absl::StrFormat("  %-10s", day);
    for (const auto& [kind, unused] : kinds) {
      auto it = counts.find(kind);
      std::cout << absl::StrFormat(" %13d", it == counts.end() ? 0 : it->second);
    }
    std::cout << "\n";
  }
}

}  // namespace

void AddInspectCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  CLI::App* cmd = app.add_subcommand("inspect", "Show what is kept on this laptop");
  cmd->callback([context]() {
    absl::StatusOr<PrivacyPolicy> policy = LoadOrCreatePolicy(context->dir);
    FailIfError(policy.status());
    absl::StatusOr<ControlState> control = LoadControlState(context->dir);
    FailIfError(control.status());
    auto store = EventStore::OpenInDirectory(context->dir);
    FailIfError(store.status());
    FailIfError((*store)->EnforceRetention(NowMs()).status());
    absl::StatusOr<StoreSummary> s = (*store)->Summary();
    FailIfError(s.status());

    std::cout << "tacit keeps your activity on this laptop only, encrypted (SQLCipher, "
                 "AES-256), in:\n  "
              << (*store)->path() << "  (key: " << context->dir << "/" << EventStore::kKeyFile
              << ", readable only by you)\n\n";
    std::cout << absl::StrFormat("Stored events: %d, using %s on disk.\n", s->events,
                                 FormatBytes(s->bytes_on_disk));
    if (s->events > 0) {
      std::cout << "From " << FormatTime(s->first_ms) << " to " << FormatTime(s->last_ms) << ".\n";
    }
    std::cout << "Retention: events older than " << s->retention_days
              << " days are deleted automatically.\n";
    std::cout << "Collection: " << (control->collection_paused ? "PAUSED" : "on")
              << "; training: " << (control->training_paused ? "PAUSED" : "on")
              << "  (tacit-client pause / resume)\n\n";
    if (!s->counts.empty()) {
      std::cout << "Events per kind and day (UTC):\n";
      PrintCounts(*s);
      std::cout << "\n";
    }
    std::cout << "What is kept: the kind and time of each event, key classes (letter, digit, "
                 "...), exact shortcuts (ctrl+c), mouse positions as a fraction of the screen, "
                 "app names and shell command names (only plain names: anything else, such as "
                 "a password typed at the prompt or `VAR=value`, is kept as <unknown-command>).\n"
                 "What is never kept: typed text, window titles, command arguments, anything "
                 "during secure input (password fields), and events in these apps: "
              << (policy->app_mode == PrivacyPolicy::AppMode::kDenyList
                      ? absl::StrJoin(policy->deny_apps, ", ")
                      : "every app not in " + absl::StrJoin(policy->allow_apps, ", "))
              << ".\nPolicy file: " << context->dir << "/" << kPrivacyPolicyFile
              << "\nErase with: tacit-client erase --all  (or --from/--to)\n"
              << kStaysHere << "\n";
  });
}

}  // namespace tacit::cli
