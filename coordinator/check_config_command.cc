// `tacit-coordinator check-config FILE`: validates a task config and prints
// it with every default filled in, or the error naming the bad key.

#include <iostream>
#include <memory>
#include <string>

#include "coordinator/cli_commands.h"
#include "task/task_config.h"

namespace tacit::coordinator {

void AddCheckConfigCommand(CLI::App& app, CommandAction* action) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "check-config", "Validate a task config and print it with all defaults filled in");
  cmd->add_option("file", *path, "Task config (JSON)")->required();
  cmd->callback([path, action] {
    *action = [path] {
      absl::StatusOr<TaskConfig> config = LoadTaskConfigFile(*path);
      if (!config.ok()) {
        std::cerr << "tacit-coordinator check-config: " << config.status().message() << "\n";
        return 1;
      }
      std::cout << TaskConfigToJson(*config).dump(2) << "\n";
      return 0;
    };
  });
}

}  // namespace tacit::coordinator
