// tacit-client erase: delete everything, or a time range, from the store.

#include <CLI/CLI.hpp>
#include <iostream>
#include <limits>

#include "client/cli/owner_commands.h"
#include "client/store/event_store.h"

namespace tacit::cli {

void AddEraseCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    bool all = false;
    std::string from, to;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("erase", "Erase stored events: all of them or a time range");
  CLI::Option* all = cmd->add_flag("--all", args->all, "Erase every stored event");
  CLI::Option* from = cmd->add_option(
      "--from", args->from, "Start of the range (2026-01-05, 2026-01-05T09:30 UTC, or ms)");
  CLI::Option* to = cmd->add_option("--to", args->to, "End of the range, exclusive");
  all->excludes(from)->excludes(to);
  cmd->callback([args, context]() {
    if (!args->all && args->from.empty() && args->to.empty()) {
      Fail(absl::InvalidArgumentError("say what to erase: --all, or --from and/or --to"));
    }
    auto store = EventStore::OpenInDirectory(context->dir);
    FailIfError(store.status());
    absl::StatusOr<int64_t> erased;
    if (args->all) {
      erased = (*store)->EraseAll();
    } else {
      TimeRange range;
      if (!args->from.empty()) {
        absl::StatusOr<int64_t> t = ParseTimeArgument(args->from);
        FailIfError(t.status());
        range.begin_ms = *t;
      }
      if (!args->to.empty()) {
        absl::StatusOr<int64_t> t = ParseTimeArgument(args->to);
        FailIfError(t.status());
        range.end_ms = *t;
      }
      if (range.begin_ms >= range.end_ms) {
        Fail(absl::InvalidArgumentError("--from must be before --to"));
      }
      erased = (*store)->EraseRange(range);
    }
    FailIfError(erased.status());
    std::cout
        << "Erased " << *erased << " events from this laptop's store"
        << (args->all ? " (the store is now empty)" : "")
        << ". Their database pages were overwritten; events are never copied anywhere else.\n";
  });
}

}  // namespace tacit::cli
