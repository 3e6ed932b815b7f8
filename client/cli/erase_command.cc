// tacit-client erase: delete everything, or a time range, from the store.

#include <CLI/CLI.hpp>
#include <iostream>
#include <limits>

#include "client/cli/owner_commands.h"
#include "client/store/erase_store.h"
#include "client/store/event_store.h"

namespace tacit::cli {
namespace {

constexpr const char* kOverwritten =
    "Their database pages were overwritten; events are never copied anywhere else.";

// --all works whatever state the store is in: a store that cannot be read is
// erased by deleting its files (client/store/erase_store.h).
void EraseAll(const std::string& dir) {
  absl::StatusOr<EraseAllReport> report = EraseAllInDirectory(dir);
  FailIfError(report.status());
  if (report->emptied_in_place) {
    std::cout << "Erased " << report->events_erased
              << " events from this laptop's store (the store is now empty). " << kOverwritten
              << "\n";
    return;
  }
  std::cout << "The store could not be read (" << report->unreadable_reason
            << "), so it was erased by deleting its files";
  if (report->removed_files.empty()) {
    std::cout << "; there were none: nothing was stored.\n";
    return;
  }
  std::cout << ":\n";
  for (const std::string& path : report->removed_files) std::cout << "  removed " << path << "\n";
  std::cout << "The key file went too, so no leftover copy of the encrypted store can be "
               "decrypted. A new store and key are made on next use.\n";
}

}  // namespace

void AddEraseCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    bool all = false;
    std::string from, to;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("erase", "Erase stored events: all of them or a time range");
  CLI::Option* all = cmd->add_flag(
      "--all", args->all,
      "Erase every stored event; a store that cannot be read (damaged, wrong key) is erased "
      "by deleting its files and its key");
  CLI::Option* from = cmd->add_option(
      "--from", args->from, "Start of the range (2026-01-05, 2026-01-05T09:30 UTC, or ms)");
  CLI::Option* to = cmd->add_option("--to", args->to, "End of the range, exclusive");
  all->excludes(from)->excludes(to);
  cmd->callback([args, context]() {
    if (!args->all && args->from.empty() && args->to.empty()) {
      Fail(absl::InvalidArgumentError("say what to erase: --all, or --from and/or --to"));
    }
    if (args->all) {
      EraseAll(context->dir);
      return;
    }
    auto store = EventStore::OpenInDirectory(context->dir);
    FailIfError(store.status());
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
    absl::StatusOr<int64_t> erased = (*store)->EraseRange(range);
    FailIfError(erased.status());
    std::cout << "Erased " << *erased << " events from this laptop's store. " << kOverwritten
              << "\n";
  });
}

}  // namespace tacit::cli
