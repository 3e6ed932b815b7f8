// tacit-client pause / resume: the owner's switches for collection and training.

#include <CLI/CLI.hpp>
#include <iostream>

#include "client/cli/owner_commands.h"
#include "client/control_state.h"

namespace tacit::cli {
namespace {

void AddSwitch(CLI::App& app, std::shared_ptr<CliContext> context, bool pause) {
  struct Args {
    bool collection = false, training = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand(pause ? "pause" : "resume",
                         pause ? "Pause collection and/or training (both when neither is named)"
                               : "Resume collection and/or training (both when neither is named)");
  cmd->add_flag("--collection", args->collection, "Only collection of new events");
  cmd->add_flag("--training", args->training, "Only local training");
  cmd->callback([args, context, pause]() {
    absl::StatusOr<ControlState> state = LoadControlState(context->dir);
    FailIfError(state.status());
    const bool both = !args->collection && !args->training;
    if (both || args->collection) state->collection_paused = pause;
    if (both || args->training) state->training_paused = pause;
    state->changed_ms = NowMs();
    // Read before saving: the daemon may leave the round as soon as it sees the pause.
    const std::string in_round =
        pause && state->training_paused ? RoundInProgress(context->dir) : "";
    FailIfError(SaveControlState(context->dir, *state));
    std::cout << "Collection is " << (state->collection_paused ? "paused" : "on")
              << " and training is " << (state->training_paused ? "paused" : "on") << ".\n";
    if (state->collection_paused) {
      std::cout << "While collection is paused nothing you do is recorded.\n";
    }
    if (!in_round.empty()) {
      // The round runner reads the pause before every call that sends
      // (client/runtime/round_runner.cc): a call already under way is the last.
      std::cout << "A round in progress was stopped (" << in_round
                << "): nothing more of it leaves this laptop.\n";
    }
    if (state->training_paused) {
      std::cout << "While training is paused no model is trained and no update is sent.\n";
    }
    std::cout << "Stored events stay on this laptop until the retention window or "
                 "`tacit-client erase` removes them.\n";
  });
}

}  // namespace

void AddPauseResumeCommands(CLI::App& app, std::shared_ptr<CliContext> context) {
  AddSwitch(app, context, /*pause=*/true);
  AddSwitch(app, context, /*pause=*/false);
}

}  // namespace tacit::cli
