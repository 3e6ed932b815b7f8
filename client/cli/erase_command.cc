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
// What erasing events cannot reach, said every time.
constexpr const char* kUpdatesRemain =
    "Masked updates already sent from rounds this laptop joined remain in the fleet's global "
    "model (summed with others'); erasing cannot take them out.";
constexpr const char* kPersonalModelGone =
    "The personal model fine-tuned on these events (model/personal.model) was erased with them; "
    "the next round rebuilds it from what is left, if the task asks for one.";
constexpr const char* kWhatStays =
    "Not erased: the fleet identity (fleet/), the global model (model/global.model), the privacy "
    "ledger and the "
    "audit log (what left this laptop). To remove those too and leave the fleet: "
    "tacit-client leave.";

// --all works whatever state the store is in: a store that cannot be read is
// erased by deleting its files (client/store/erase_store.h).
void PrintErasedAll(const EraseAllReport& report) {
  if (report.emptied_in_place) {
    std::cout << "Erased " << report.events_erased
              << " events from this laptop's store (the store is now empty). " << kOverwritten
              << "\n";
    return;
  }
  std::cout << "The store could not be read (" << report.unreadable_reason
            << "), so it was erased by deleting its files";
  if (report.removed_files.empty()) {
    std::cout << "; there were none: nothing was stored.\n";
    return;
  }
  std::cout << ":\n";
  for (const std::string& path : report.removed_files) std::cout << "  removed " << path << "\n";
  std::cout << "The key file went too, so no leftover copy of the encrypted store can be "
               "decrypted. A new store and key are made on next use.\n";
}

void EraseAll(const std::string& dir) {
  absl::StatusOr<EraseAllReport> report = EraseAllInDirectory(dir);
  FailIfError(report.status());
  PrintErasedAll(*report);
  if (!report->personal_model_files.empty()) std::cout << kPersonalModelGone << "\n";
  std::cout << kUpdatesRemain << "\n" << kWhatStays << "\n";
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
      "--from,--after", args->from,
      "Start of the range, in this laptop's time zone unless an offset or UTC is given "
      "(2026-11-30, \"2026-11-30 14:00\", \"2026-11-30 14:00 +01:00\", or ms)");
  CLI::Option* to =
      cmd->add_option("--to,--before", args->to, "End of the range, exclusive (same forms)");
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
    absl::StatusOr<std::vector<std::string>> personal = RemovePersonalModel(context->dir);
    FailIfError(personal.status());
    std::cout << "Erased " << *erased << " events recorded "
              << (args->from.empty() ? std::string("from the first")
                                     : "from " + FormatLocalTime(range.begin_ms))
              << (args->to.empty() ? std::string(" to the last")
                                   : " until " + FormatLocalTime(range.end_ms))
              << " (local time) from this laptop's store. " << kOverwritten << "\n"
              << (personal->empty() ? "" : std::string(kPersonalModelGone) + "\n") << kUpdatesRemain
              << "\n";
  });
}

}  // namespace tacit::cli
