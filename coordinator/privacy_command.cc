// `tacit-coordinator privacy`: the (epsilon, delta) a plan of rounds spends,
// to choose noise and sampling before a task starts. RDP is the figure the
// coordinator reports while it runs (GlobalModel); the PLD accountant's
// tighter figure is printed next to it here, where a second or so is cheap.

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/cli_commands.h"
#include "privacy/ddg_planner.h"
#include "privacy/pld_accountant.h"
#include "privacy/rdp_accountant.h"

namespace tacit::coordinator {
namespace {

struct PrivacyArgs {
  int64_t rounds = 100;
  double sampling_rate = 1.0;
  double noise_multiplier = 1.0;
  double delta = 1e-5;
  std::string mechanism = "discrete_gaussian";
  double target_epsilon = 0;  // > 0: solve for the noise multiplier
  // > 0: also print the discrete Gaussian's plan per ring width for a model
  // of this many coordinates (the bits per coordinate the mechanism needs).
  int64_t model_length = 0;
  double clip = 1.0;
  int64_t min_survivors = 0;
  int64_t max_clients = 0;
};

// The plan every laptop would make at each ring width (task/ddg_task.h), and
// the narrowest whose error is within 5% of the continuous Gaussian's.
int PrintDdgPlans(const PrivacyArgs& args) {
  if (args.min_survivors < 1 || args.max_clients < args.min_survivors) {
    std::fprintf(stderr,
                 "tacit-coordinator privacy: --model-length needs --min-survivors >= 1 and "
                 "--max-clients >= --min-survivors (cohort.min_survivors and the most updates "
                 "in a sum)\n");
    return 1;
  }
  std::printf("discrete Gaussian plans (z %.4g, clip %g, %lld coordinates, %lld..%lld clients):\n",
              args.noise_multiplier, args.clip, static_cast<long long>(args.model_length),
              static_cast<long long>(args.min_survivors), static_cast<long long>(args.max_clients));
  std::printf("%5s %12s %14s %10s %10s\n", "bits", "grid", "local sigma", "inflation", "wrap");
  int needed = 0;
  for (int bits = 8; bits <= 62; ++bits) {
    privacy::DdgNoiseRequest request;
    request.noise_multiplier = args.noise_multiplier;
    request.clip = args.clip;
    request.min_clients = args.min_survivors;
    request.max_clients = args.max_clients;
    request.dim = args.model_length;
    request.bits = bits;
    absl::StatusOr<privacy::DdgPlan> plan = privacy::PlanDdgForNoise(request);
    if (!plan.ok()) {
      if (absl::IsFailedPrecondition(plan.status())) continue;  // too narrow for the cohort
      std::fprintf(stderr, "tacit-coordinator privacy: %s\n",
                   std::string(plan.status().message()).c_str());
      return 1;
    }
    std::printf("%5d %12.4g %14.4g %10.4f %10.1e\n", bits, plan->mechanism.gamma,
                std::sqrt(plan->mechanism.local_variance), plan->noise_inflation,
                plan->wrap_probability);
    if (needed == 0 && plan->noise_inflation <= 1.05) needed = bits;
    if (needed != 0 && bits >= needed + 4) break;
  }
  if (needed == 0) {
    std::printf("no ring up to 62 bits keeps the error within 5%% of the continuous Gaussian's\n");
  } else {
    std::printf(
        "bits per coordinate needed: %d (error within 5%% of the continuous Gaussian's; "
        "secure_agg.bits sets the ring)\n",
        needed);
  }
  return 0;
}

// RDP epsilon of the plan at noise multiplier z, as the coordinator and the
// laptops account it for the task's mechanism (GlobalModel::ComposePrivacy).
absl::StatusOr<privacy::PrivacySpent> PlanEpsilon(const PrivacyArgs& args, double z) {
  privacy::RdpAccountant accountant;
  TACIT_RETURN_IF_ERROR(
      args.mechanism == "discrete_gaussian"
          ? accountant.ComposeGaussianDominated(args.sampling_rate, z, args.rounds)
          : accountant.ComposeSampledGaussian(args.sampling_rate, z, args.rounds));
  return accountant.Spent(args.delta);
}

// The smallest z (to 0.1%) whose plan spends at most the target epsilon.
absl::StatusOr<double> NoiseForTarget(const PrivacyArgs& args) {
  double low = 1e-3, high = 1e4;
  TACIT_ASSIGN_OR_RETURN(privacy::PrivacySpent top, PlanEpsilon(args, high));
  if (top.epsilon > args.target_epsilon) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no noise multiplier up to ", high, " reaches epsilon ", args.target_epsilon,
        " in this plan: allow a larger epsilon, fewer rounds or a smaller sampling rate"));
  }
  while (high / low > 1.001) {
    const double mid = std::sqrt(low * high);
    TACIT_ASSIGN_OR_RETURN(privacy::PrivacySpent spent, PlanEpsilon(args, mid));
    (spent.epsilon <= args.target_epsilon ? high : low) = mid;
  }
  return high;
}

}  // namespace

void AddPrivacyCommand(CLI::App& app, CommandAction* action) {
  auto args = std::make_shared<PrivacyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "privacy", "Epsilon spent by R rounds of the subsampled Gaussian mechanism (user level)");
  cmd->add_option("--rounds", args->rounds, "Rounds (releases)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--sampling-rate", args->sampling_rate,
                  "q per round: dp.check_in_probability with dp.sampling "
                  "random_check_in; 1 otherwise (the coordinator seats whoever checks in first, "
                  "which is no random sample)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--noise-multiplier", args->noise_multiplier, "z (dp.noise_multiplier)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--delta", args->delta, "Target delta")
      ->check(CLI::Range(1e-300, 0.999999))
      ->capture_default_str();
  cmd->add_option("--mechanism", args->mechanism,
                  "dp.mechanism: discrete_gaussian (the general subsampling bound; what the "
                  "fleet runs) or continuous_gaussian (the subsampled Gaussian's own)")
      ->check(CLI::IsMember({"discrete_gaussian", "continuous_gaussian"}))
      ->capture_default_str();
  cmd->add_option("--target-epsilon", args->target_epsilon,
                  "Solve for the smallest noise multiplier that spends at most this epsilon "
                  "(replaces --noise-multiplier)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--model-length", args->model_length,
                  "Also print the discrete Gaussian's plan per ring width for a model of this "
                  "many parameters (needs --min-survivors and --max-clients)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--clip", args->clip, "dp.clip_norm, for --model-length")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--min-survivors", args->min_survivors,
                  "cohort.min_survivors, for --model-length")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-clients", args->max_clients,
                  "the most updates in one sum (cohort.size * over_selection), for --model-length")
      ->check(CLI::PositiveNumber);
  cmd->callback([args, action] {
    *action = [args] {
      if (args->target_epsilon > 0) {
        absl::StatusOr<double> z = NoiseForTarget(*args);
        if (!z.ok()) {
          std::fprintf(stderr, "tacit-coordinator privacy: %s\n",
                       std::string(z.status().message()).c_str());
          return 1;
        }
        args->noise_multiplier = *z;
        std::printf("noise multiplier %.4f reaches epsilon <= %g (set dp.noise_multiplier)\n", *z,
                    args->target_epsilon);
      }
      absl::StatusOr<privacy::PrivacySpent> spent = PlanEpsilon(*args, args->noise_multiplier);
      if (!spent.ok()) {
        std::fprintf(stderr, "tacit-coordinator privacy: %s\n",
                     std::string(spent.status().message()).c_str());
        return 1;
      }
      std::printf("epsilon %.4f at delta %g (RDP order %d; %lld rounds, q %g, z %g, %s)\n",
                  spent->epsilon, args->delta, spent->order, static_cast<long long>(args->rounds),
                  args->sampling_rate, args->noise_multiplier, args->mechanism.c_str());
      if (args->mechanism == "discrete_gaussian") {
        // The PLD of a Gaussian is not the discrete Gaussian's (RDP
        // domination is not PLD domination): no tighter figure to offer.
        std::printf("PLD accountant: not for the discrete Gaussian (RDP above is the figure)\n");
        return args->model_length > 0 ? PrintDdgPlans(*args) : 0;
      }
      privacy::PldAccountant pld;
      // Without sampling, R Gaussian rounds are exactly one Gaussian with z /
      // sqrt(R) (Gaussian DP composition): one PLD release instead of an FFT
      // composition whose grid grows with R (seconds for 100 rounds).
      const bool unsampled = args->sampling_rate == 1.0 && args->noise_multiplier > 0;
      absl::Status composed =
          unsampled
              ? pld.ComposeSampledGaussian(
                    1.0, args->noise_multiplier / std::sqrt(static_cast<double>(args->rounds)))
              : pld.ComposeSampledGaussian(args->sampling_rate, args->noise_multiplier,
                                           args->rounds);
      absl::StatusOr<double> pld_epsilon =
          composed.ok() ? pld.Epsilon(args->delta) : absl::StatusOr<double>(composed);
      if (pld_epsilon.ok()) {
        std::printf("epsilon %.4f at delta %g by the PLD accountant (tighter; add-or-remove)\n",
                    *pld_epsilon, args->delta);
      } else {
        std::printf("PLD accountant: %s\n", std::string(pld_epsilon.status().message()).c_str());
      }
      return 0;
    };
  });
}

}  // namespace tacit::coordinator
