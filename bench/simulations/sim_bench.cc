// Simulation costs, as a table: (1) memory per idle simulated person when a
// population of N people is loaded (tokens only: a person who is not training
// holds no model and no tensors); (2) the simulator's own overhead per round:
// wall time minus the parallel training step and the secure aggregation
// protocol, over a few rounds of a small federation.
//
//   build/bench/sim_bench [--people 10000] [--rounds 3] [--cohort 10] [--json FILE]
//
// bench/common: unknown flags and bad values exit 2. Every other exit writes
// the JSON report (figures and machine) to stdout or FILE, with "missing"
// naming what was not measured (a population not generated, an unreadable
// RSS, a simulation that failed, a round that did not commit), and exits 1
// when anything is missing (sim_bench_stages.h). Tables go to stderr.

#include <cstdio>

#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "bench/simulations/sim_bench_stages.h"

int main(int argc, char** argv) {
  int people = 10000, rounds = 3, cohort = 10;
  CLI::App app{
      "sim_bench: memory per idle simulated person, and the simulator's own overhead per round "
      "of a small federation with secure aggregation",
      "sim_bench"};
  app.add_option("--people", people, "people loaded for the memory measurement")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--rounds", rounds, "rounds of the overhead measurement")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--cohort", cohort, "clients per round (secure aggregation needs 3 or more)")
      ->check(CLI::Range(3, 100000))
      ->capture_default_str();
  tacit::bench::CommonFlags common;
  tacit::bench::AddCommonFlags(app, &common);
  if (auto exit_code = tacit::bench::ParseFlags(app, argc, argv)) return *exit_code;
  if (2 * cohort > people) {
    std::fprintf(stderr, "sim_bench: --cohort %d needs at least %d --people\n", cohort, 2 * cohort);
    return tacit::bench::kExitBadFlags;
  }
  tacit::bench::BenchReport report("sim_bench");
  tacit::bench::MeasureRoundOverhead(tacit::bench::MeasureIdlePeople(people, report), rounds,
                                     cohort, report);
  report.RequireFigure("/population/bytes_per_idle_person");
  report.RequireFigure("/rounds/median_round_wall_seconds");
  return report.Finish(common.json_path, 0);
}
