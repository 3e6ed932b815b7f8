// `tacit-coordinator check-config FILE [--force]`: validates a task config,
// prints it with every default filled in (stdout), what its secure
// aggregation settings promise and the epsilon its schedule will have spent
// (stderr), or the error naming the bad key (also a minimum cohort the round
// could not run with).
// Overrides of secure_agg.threshold / .neighbors weaker than both the targets
// and the automatic choice are refused unless --force (then warned about),
// exactly as `serve` refuses them.

#include <iostream>
#include <memory>
#include <string>

#include "coordinator/cli_commands.h"
#include "coordinator/round/privacy_projection.h"
#include "coordinator/round/secagg_bounds.h"
#include "models/parameter_layout.h"
#include "task/ring_bits.h"
#include "task/task_config.h"
#include "task/task_model.h"

namespace tacit::coordinator {
namespace {

struct CheckConfigArgs {
  std::string path;
  bool force = false;
};

int Fail(const absl::Status& status) {
  std::cerr << "tacit-coordinator check-config: " << status.message() << "\n";
  return 1;
}

}  // namespace

void AddCheckConfigCommand(CLI::App& app, CommandAction* action) {
  auto args = std::make_shared<CheckConfigArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check-config",
      "Validate a task config, print it with all defaults filled in and its secure aggregation "
      "bounds");
  cmd->add_option("file", args->path, "Task config (JSON)")->required();
  cmd->add_flag("--force", args->force,
                "Accept secure_agg threshold/neighbors overrides whose bounds are worse than "
                "the targets and the automatic choice (warns)");
  cmd->callback([args, action] {
    *action = [args] {
      absl::StatusOr<TaskConfig> config = LoadTaskConfigFile(args->path);
      if (!config.ok()) return Fail(config.status());
      absl::StatusOr<SecAggBoundsReport> bounds = EvaluateSecAggBounds(*config);
      if (!bounds.ok()) return Fail(bounds.status());
      std::cerr << bounds->Describe();
      absl::StatusOr<PrivacyProjection> privacy = ProjectPrivacy(*config);
      if (!privacy.ok()) return Fail(privacy.status());
      std::cerr << privacy->Describe();
      // The ring, planned from the cohort, clip and quantization when
      // secure_agg.bits is 0 (task/ring_bits.h), for the task's model.
      absl::StatusOr<ModelConfig> model = ResolveTaskModel(*config);
      if (!model.ok()) return Fail(model.status());
      absl::StatusOr<ParameterLayout> layout = LayoutOf(*model);
      if (!layout.ok()) return Fail(layout.status());
      absl::StatusOr<std::string> ring = DescribeRingOfTask(*config, layout->total_size);
      if (!ring.ok()) return Fail(ring.status());
      std::cerr << *ring << "\n";
      if (absl::Status weak = RefuseWeakOverrides(*bounds); !weak.ok()) {
        if (!args->force) return Fail(weak);
        std::cerr << "WARNING (--force): " << weak.message() << "\n";
      }
      std::cout << TaskConfigToJson(*config).dump(2) << "\n";
      return 0;
    };
  });
}

}  // namespace tacit::coordinator
