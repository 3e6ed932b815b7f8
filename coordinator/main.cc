// tacit-coordinator: the operator's entry point. Subcommands live in their
// own files (see cli_commands.h).

#include "coordinator/cli_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tacit-coordinator: runs federated training rounds for a fleet of tacit clients"};
  app.require_subcommand(1);
  tacit::coordinator::CommandAction action;
  tacit::coordinator::AddPkiCommand(app, &action);
  tacit::coordinator::AddCheckConfigCommand(app, &action);
  tacit::coordinator::AddPrivacyCommand(app, &action);
  tacit::coordinator::AddServeCommand(app, &action);
  tacit::coordinator::AddStatusCommand(app, &action);
  CLI11_PARSE(app, argc, argv);
  return action ? action() : 2;
}
