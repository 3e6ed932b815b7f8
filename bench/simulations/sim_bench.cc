// Simulation costs, as a table: (1) memory per idle simulated person in a
// generated population of N people (default 10^6; people are generated when
// selected, so an idle one costs nothing but the population's few bytes);
// (2) the simulator's own overhead per round: wall time minus the parallel
// training step and the secure aggregation protocol, over a few rounds of a
// small federation, and its throughput in client updates per second per core
// (the cohort trained with all cores).
//
//   build/bench/sim_bench [--people 1000000] [--rounds 3] [--cohort 10] [--json FILE]
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
  int people = 1000000, rounds = 3, cohort = 10;
  CLI::App app{
      "sim_bench: memory per idle simulated person, and the simulator's own overhead per round "
      "of a small federation with secure aggregation",
      "sim_bench"};
  app.add_option("--people", people,
                 "people of the generated population for the memory measurement")
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
  tacit::bench::MeasureIdlePeople(people, report);
  tacit::bench::MeasureRoundOverhead(tacit::bench::BenchFleet(2 * cohort, report), rounds, cohort,
                                     report);
  report.RequireFigure("/population/bytes_per_idle_person");
  report.RequireFigure("/rounds/median_round_wall_seconds");
  report.RequireFigure("/rounds/updates_per_second_per_core");
  return report.Finish(common.json_path, 0);
}
