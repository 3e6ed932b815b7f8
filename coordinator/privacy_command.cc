// `tacit-coordinator privacy`: the (epsilon, delta) a plan of rounds spends,
// from the RDP accountant, to choose noise and cohort before a task starts.

#include <cstdio>
#include <memory>

#include "coordinator/cli_commands.h"
#include "privacy/rdp_accountant.h"

namespace tacit::coordinator {
namespace {

struct PrivacyArgs {
  int64_t rounds = 100;
  double sampling_rate = 0.01;
  double noise_multiplier = 1.0;
  double delta = 1e-5;
};

}  // namespace

void AddPrivacyCommand(CLI::App& app, CommandAction* action) {
  auto args = std::make_shared<PrivacyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "privacy", "Epsilon spent by R rounds of the subsampled Gaussian mechanism (user level)");
  cmd->add_option("--rounds", args->rounds, "Rounds (releases)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--sampling-rate", args->sampling_rate, "q = cohort size / enrolled population")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--noise-multiplier", args->noise_multiplier, "z (dp.noise_multiplier)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--delta", args->delta, "Target delta")
      ->check(CLI::Range(1e-300, 0.999999))
      ->capture_default_str();
  cmd->callback([args, action] {
    *action = [args] {
      privacy::RdpAccountant accountant;
      absl::Status s = accountant.ComposeSampledGaussian(args->sampling_rate,
                                                         args->noise_multiplier, args->rounds);
      absl::StatusOr<privacy::PrivacySpent> spent =
          s.ok() ? accountant.Spent(args->delta) : absl::StatusOr<privacy::PrivacySpent>(s);
      if (!spent.ok()) {
        std::fprintf(stderr, "tacit-coordinator privacy: %s\n",
                     std::string(spent.status().message()).c_str());
        return 1;
      }
      std::printf("epsilon %.4f at delta %g (RDP order %d; %lld rounds, q %g, z %g)\n",
                  spent->epsilon, args->delta, spent->order, static_cast<long long>(args->rounds),
                  args->sampling_rate, args->noise_multiplier);
      return 0;
    };
  });
}

}  // namespace tacit::coordinator
