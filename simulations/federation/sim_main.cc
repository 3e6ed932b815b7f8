// tacit-sim: simulated federations for researchers, on the fleet generator or
// real per-person logs, with the production round, secure aggregation and
// trainer code. See docs/simulation.md. Under `mpirun -np N` rank 0 runs the
// coordinator's rounds and writes the report; ranks 1..N-1 own shards of the
// population and run those people's laptops (simulations/mpi/).

#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "models/blas_kernels.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/run_experiment.h"
#include "simulations/mpi/mpi_world.h"
#include "simulations/mpi/shard_rank.h"
#include "simulations/mpi/sharded_laptops.h"
#include "simulations/report/compare_runs.h"

namespace {

using tacit::sim::ExperimentConfig;

int Fail(int code, const absl::Status& status) {
  std::fprintf(stderr, "tacit-sim: %s\n", std::string(status.message()).c_str());
  return code;
}

int Run(const std::string& config_path, const std::string& out, const std::string& transport,
        const std::string& seeds_flag, tacit::sim::MpiWorld* world) {
  auto config = tacit::sim::LoadExperimentConfigFile(config_path, transport);
  if (!config.ok()) return Fail(2, config.status());
  std::vector<uint64_t> seeds = config->seeds;
  if (!seeds_flag.empty()) {
    auto parsed = tacit::sim::ParseSeedList(seeds_flag);
    if (!parsed.ok()) return Fail(2, parsed.status());
    seeds = *parsed;
  }
  tacit::sim::LaptopPlacement placement;
  if (world != nullptr && world->size() > 1) {
    // A shard rank serves rank 0 until it is told to stop.
    if (world->rank() != 0) return tacit::sim::ServeShard(*world, *config, seeds);
    placement.description = absl::StrCat("MPI: rank 0 runs the coordinator, ", world->size() - 1,
                                         " shard ranks run the laptops");
    placement.make = [world](const ExperimentConfig& resolved, const tacit::Population& people)
        -> absl::StatusOr<std::unique_ptr<tacit::sim::SimulatedLaptops>> {
      auto laptops = tacit::sim::ShardedLaptops::Begin(*world, resolved, people);
      if (!laptops.ok()) return laptops.status();
      return std::unique_ptr<tacit::sim::SimulatedLaptops>(*std::move(laptops));
    };
  }
  if (seeds.empty()) return tacit::sim::RunExperiment(*config, out, placement);
  return tacit::sim::RunReplicates(*config, seeds, out, placement);
}

int Compare(const std::vector<std::string>& folders, const std::string& svg_path) {
  std::vector<tacit::sim::RunCurve> runs;
  for (const std::string& folder : folders) {
    auto run = tacit::sim::LoadRunCurve(folder);
    if (!run.ok()) return Fail(2, run.status());
    runs.push_back(*std::move(run));
  }
  std::vector<tacit::sim::RunGroup> groups = tacit::sim::GroupReplicates(std::move(runs));
  std::printf("%s", tacit::sim::RenderComparisonTable(groups).c_str());
  if (!svg_path.empty()) {
    absl::Status written = tacit::WriteFileAtomically(
        svg_path, tacit::sim::RenderComparisonSvg(groups, "next-event top-1, pooled"));
    if (!written.ok()) return Fail(1, written);
    std::printf("chart: %s\n", svg_path.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tacit::UseBestBlasKernels(argv);  // before any thread: it may restart the program
  CLI::App app{
      "tacit-sim: simulated federations with the production client and coordinator "
      "code (secure aggregation, local training, server optimizer)"};
  app.require_subcommand(1);
  std::string config_path, out, transport, seeds;
  CLI::App* run = app.add_subcommand("run", "run the experiment of a config file");
  run->add_option("--config", config_path, "experiment config (JSON), see docs/simulation.md")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--out", out, "output folder (default runs/<name>-<time>)");
  run->add_option("--transport", transport,
                  "override simulation.transport: in_process, or grpc (the coordinator service "
                  "and fleet clients over loopback with mutual TLS)");
  run->add_option("--seeds", seeds,
                  "replicates, e.g. 1,2,3 (overrides the config's `seeds`): one run per seed in "
                  "OUT/seed-N/, then OUT/summary.md with mean and spread");

  std::string inspect_config;
  CLI::App* inspect = app.add_subcommand(
      "inspect-data",
      "load a config's population and print per-person counts, the split and the vocabulary "
      "coverage, without training");
  inspect->add_option("--config", inspect_config, "experiment config (JSON)")
      ->required()
      ->check(CLI::ExistingFile);

  std::vector<std::string> folders;
  std::string svg;
  CLI::App* compare = app.add_subcommand(
      "compare",
      "overlay run folders (tacit-sim run, tacit-central --out) in one table and one chart; "
      "runs whose configs differ only by seed are one mean line with a min-max band");
  compare->add_option("runs", folders, "run folders")->required();
  // --svg, not --out: `run --out` names a folder, this names one SVG file.
  // Unknown flags (the old --out too) are errors, as everywhere in tacit-sim.
  compare->add_option("--svg", svg, "write the chart to this SVG file");
  CLI11_PARSE(app, argc, argv);

  if (*run) {
    std::unique_ptr<tacit::sim::MpiWorld> world;
    if (tacit::sim::MpiWorld::StartedByMpirun()) {
      auto joined = tacit::sim::MpiWorld::Join(&argc, &argv);
      if (!joined.ok()) return Fail(1, joined.status());
      world = *std::move(joined);
    }
    const int code = Run(config_path, out, transport, seeds, world.get());
    // A failed rank ends the whole run at once: the others may be waiting
    // for it (or it for them), and mpirun reports the code.
    if (world != nullptr && code != 0) world->Abort(code);
    if (world != nullptr && world->rank() == 0) tacit::sim::ShutDownShards(*world);
    return code;
  }
  if (tacit::sim::MpiWorld::StartedByMpirun()) {
    return Fail(2, absl::InvalidArgumentError(
                       "only `tacit-sim run` runs under mpirun; run inspect-data and compare "
                       "without it"));
  }
  if (*inspect) {
    auto config = tacit::sim::LoadExperimentConfigFile(inspect_config);
    if (!config.ok()) return Fail(2, config.status());
    return tacit::sim::InspectData(*config);
  }
  return Compare(folders, svg);
}
