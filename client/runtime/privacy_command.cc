#include "client/runtime/privacy_command.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/runtime/privacy_budget.h"
#include "privacy/pld_accountant.h"

namespace tacit::cli {
namespace {

std::string Epsilon(double epsilon) {
  return std::isfinite(epsilon) ? absl::StrFormat("%.3f", epsilon)
                                : std::string("infinite (a round without DP noise)");
}

// The PLD accountant's epsilon for the same releases (add-or-remove). The
// rounds at q = 1 are composed exactly first: Gaussians with noise
// multipliers z_i compose to one Gaussian with 1 / z^2 = sum 1 / z_i^2 (Dong,
// Roth, Su 2019, Gaussian DP), one PLD release instead of an FFT composition
// whose grid grows with every round (100 rounds took 6 s of CPU).
// The PLD of a Gaussian says nothing about the discrete Gaussian (RDP
// domination is not PLD domination), so tasks with discrete releases get
// their RDP figure only.
std::string PldEpsilon(const runtime::TaskSpending& spending, double delta) {
  privacy::PldAccountant pld;
  double unsampled_precision = 0;  // sum of 1 / z^2 over q = 1 releases
  for (const auto& [release, count] : spending.releases) {
    const auto& [q, z, discrete] = release;
    if (discrete) return "n/a for the discrete Gaussian (RDP only)";
    if (z <= 0) return Epsilon(std::numeric_limits<double>::infinity());
    if (q == 1.0) {
      unsampled_precision += static_cast<double>(count) / (z * z);
      continue;
    }
    absl::Status composed = pld.ComposeSampledGaussian(q, z, count);
    if (!composed.ok()) return absl::StrCat("n/a (", composed.message(), ")");
  }
  if (unsampled_precision > 0) {
    absl::Status composed = pld.ComposeSampledGaussian(1.0, 1 / std::sqrt(unsampled_precision));
    if (!composed.ok()) return absl::StrCat("n/a (", composed.message(), ")");
  }
  absl::StatusOr<double> epsilon = pld.Epsilon(delta);
  return epsilon.ok() ? Epsilon(*epsilon) : absl::StrCat("n/a (", epsilon.status().message(), ")");
}

}  // namespace

void PrintPrivacySpending(std::ostream& out, const runtime::Ledger& ledger,
                          const runtime::ParticipationPolicy& policy, bool with_pld) {
  const std::string damaged = runtime::DamagedLedgerReason(ledger);
  if (!damaged.empty()) out << "  NOT TAKING PART: " << damaged << "\n";
  out << "  budget: "
      << (policy.max_epsilon ? absl::StrCat("max_epsilon ", *policy.max_epsilon, " per task")
                             : std::string("none set (max_epsilon null)"))
      << " at delta " << policy.delta << " (" << runtime::kParticipationPolicyFile << ")\n";
  const std::vector<std::string> tasks = runtime::LedgerTasks(ledger);
  if (tasks.empty()) out << "  no participation recorded yet\n";
  for (const std::string& task : tasks) {
    absl::StatusOr<runtime::TaskSpending> s = runtime::SpentOnTask(ledger, task, policy.delta);
    if (!s.ok()) {
      out << "  task '" << task << "': cannot compute: " << s.status().message() << "\n";
      continue;
    }
    out << "  task '" << task << "': " << s->participations << " round(s) taken part in";
    if (s->windows > 0) out << ", " << s->windows << " random check-in window(s)";
    out << "\n    epsilon spent " << Epsilon(s->epsilon()) << " (RDP, computed on this laptop)";
    if (policy.max_epsilon) {
      out << ", budget left " << Epsilon(std::max(0.0, *policy.max_epsilon - s->epsilon()));
    }
    out << "\n    released models: " << Epsilon(s->released);
    if (with_pld) out << " (PLD accountant: " << PldEpsilon(*s, policy.delta) << ")";
    out << "; against the coordinator, which sees who checks in: " << Epsilon(s->vs_coordinator)
        << "\n";
  }
}

void AddPrivacyCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  CLI::App* cmd = app.add_subcommand(
      "privacy",
      "Show the differential-privacy epsilon this laptop spent per task, computed here from its "
      "own ledger, and the budget left");
  cmd->callback([context] {
    absl::StatusOr<runtime::ParticipationPolicy> policy =
        runtime::LoadParticipationPolicy(context->dir);
    FailIfError(policy.status());
    absl::StatusOr<runtime::Ledger> ledger = runtime::ReadLedger(context->dir);
    FailIfError(ledger.status());
    std::cout << "privacy spent (" << runtime::kPrivacyLedgerFile
              << ", user-level: your whole update per round):\n";
    PrintPrivacySpending(std::cout, *ledger, *policy, /*with_pld=*/true);
    std::cout << "The laptop's figure is what the budget is checked against, not the "
                 "coordinator's: it counts every round this laptop sent a noised update in.\n";
  });
}

}  // namespace tacit::cli
