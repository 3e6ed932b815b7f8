// tacit-client import: a log file into the encrypted store, through the
// owner's privacy policy.

#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/owner_commands.h"
#include "client/control_state.h"
#include "client/store/store_import.h"

namespace tacit::cli {

void AddImportCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    std::string format, file, on_error = "stop", times = "auto";
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Import a log file into this laptop's encrypted store (privacy filter applied first)");
  cmd->add_option("file", args->file, "The log file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", args->format,
                  "sea-commands | aalto-keystrokes | balabit-mouse | jsonl")
      ->required();
  cmd->add_option("--on-error", args->on_error,
                  "stop: refuse the file at its first bad line (nothing imported); "
                  "skip: skip and count bad lines")
      ->check(CLI::IsMember({"stop", "skip"}));
  cmd->add_option("--times", args->times,
                  "now: shift times so the file's last event is now (keeps old or "
                  "relative-time logs inside the retention window); keep: as in the file; "
                  "auto (default): keep for jsonl, now for the data set formats. Stored times "
                  "must lie between 1990-01-01 and one day from now: a line outside is a bad "
                  "line (see --on-error)")
      ->check(CLI::IsMember({"auto", "now", "keep"}));
  cmd->add_flag("--force", args->force,
                "Import even while collection is paused (`tacit-client pause`)");
  cmd->callback([args, context]() {
    // Pausing collection means nothing new is recorded: an import is new
    // events too, so it needs the owner to say so (a damaged control file
    // counts as paused, as it does for the collector).
    absl::StatusOr<ControlState> control = LoadControlState(context->dir);
    if (!args->force && (!control.ok() || control->collection_paused)) {
      std::cerr << "Nothing was imported; the store is unchanged.\n";
      Fail(absl::FailedPreconditionError(
          control.ok()
              ? "collection is paused (tacit-client pause): run `tacit-client resume "
                "--collection` first, or import anyway with --force"
              : absl::StrCat(control.status().message(), "; or import anyway with --force")));
    }
    absl::StatusOr<DataFormat> format = ParseDataFormat(args->format);
    FailIfError(format.status());
    absl::StatusOr<PrivacyPolicy> policy = LoadOrCreatePolicy(context->dir);
    FailIfError(policy.status());
    auto store = EventStore::OpenInDirectory(context->dir);
    FailIfError(store.status());
    StoreImportOptions options;
    options.import.on_bad_line = args->on_error == "skip" ? OnBadLine::kSkip : OnBadLine::kStop;
    const int64_t now = NowMs();
    options.import.now_ms = now;
    const bool shift =
        args->times == "now" || (args->times == "auto" && *format != DataFormat::kJsonLines);
    if (shift) {
      absl::StatusOr<int64_t> latest = LatestEventTime(*format, args->file, options.import);
      if (!latest.ok()) {
        std::cerr << "Nothing was imported; the store is unchanged.\n";
        Fail(latest.status());
      }
      options.shift_ms = now - *latest;
    }
    absl::StatusOr<StoreImportReport> report =
        ImportIntoStore(**store, *format, args->file, options, *policy);
    if (!report.ok()) {
      std::cerr << "Nothing was imported; the store is unchanged.\n";
      Fail(report.status());
    }
    absl::StatusOr<int64_t> expired = (*store)->EnforceRetention(now);
    FailIfError(expired.status());
    const PrivacyFilter::Counts& f = report->filtered;
    std::cout << absl::StrFormat(
        "Imported %s (%s): %d lines read, %d events.\n"
        "  kept on this laptop, encrypted: %d events\n"
        "  dropped by the privacy filter:  %d (secure input %d, denied apps %d, policy %d)\n"
        "  names not kept (not plain command or app names, stored as %s / %s): %d\n"
        "  bad lines skipped:              %d\n",
        args->file, args->format, report->file.lines, report->file.events, report->stored,
        f.dropped_secure_input + f.dropped_by_app + f.dropped_by_policy, f.dropped_secure_input,
        f.dropped_by_app, f.dropped_by_policy, kUnknownCommand, kUnknownApp,
        f.replaced_command_names + f.replaced_app_names, report->file.skipped_lines);
    for (const std::string& problem : report->file.first_problems) {
      std::cout << "    skipped " << problem << "\n";
    }
    if (*expired > 0) {
      std::cout << "  removed by the " << (*store)->retention_days()
                << "-day retention window: " << *expired << " events\n";
    }
    std::cout << "Typed text, window titles, command arguments and anything that is not a "
                 "plain command or app name were not stored.\n"
              << kStaysHere << "\n";
  });
}

}  // namespace tacit::cli
