// tacit-client generate-activity: synthetic activity from the built-in
// generator for a laptop without data of its own (client/synthetic_activity.h).

#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_format.h"
#include "client/cli/owner_commands.h"
#include "client/synthetic_activity.h"

namespace tacit::cli {

void AddGenerateActivityCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  auto options = std::make_shared<SyntheticActivityOptions>();
  CLI::App* cmd = app.add_subcommand(
      "generate-activity",
      "Store SYNTHETIC activity from the built-in generator (for trials without real data; "
      "`inspect` marks it)");
  cmd->add_option("--days", options->days, "Working days of activity, ending now")
      ->capture_default_str();
  cmd->add_option("--max-events", options->max_events, "Stop after this many generated events")
      ->capture_default_str();
  cmd->add_option("--person", options->person,
                  "Generator person index (persona = index % 5: developer, analyst, support "
                  "agent, designer, manager)")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Generator seed")->capture_default_str();
  cmd->callback([options, context]() {
    absl::StatusOr<PrivacyPolicy> policy = LoadOrCreatePolicy(context->dir);
    FailIfError(policy.status());
    auto store = EventStore::OpenInDirectory(context->dir);
    FailIfError(store.status());
    SyntheticActivityOptions run = *options;
    run.now_ms = NowMs();
    absl::StatusOr<SyntheticActivity> made =
        GenerateSyntheticActivity(context->dir, **store, *policy, run);
    FailIfError(made.status());
    std::cout << absl::StrFormat(
        "Stored %d SYNTHETIC events (persona %s; %d generated, %d dropped by your privacy "
        "filter), from %s to %s.\nThey are not your activity: `tacit-client inspect` says the "
        "store holds synthetic events; `tacit-client erase --all` removes them.\n",
        made->stored, made->persona, made->generated, made->generated - made->stored,
        FormatTime(made->first_ms), FormatTime(made->last_ms));
  });
}

}  // namespace tacit::cli
