// Simulation costs, as a table: (1) memory per idle simulated person when a
// population of N people is loaded (tokens only: a person who is not training
// holds no model and no tensors); (2) the simulator's own overhead per round:
// wall time minus the parallel training step and the secure aggregation
// protocol, over a few rounds of a small federation.
//
//   build/bench/sim_bench [--people 10000] [--rounds 3] [--cohort 10] [--json FILE]
//
// bench/common: unknown flags and bad values exit 2; a round that does not
// commit or an unreadable RSS exits 1 naming it. Tables go to stderr, the JSON
// report (figures and machine) to stdout or FILE.

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "client/examples/population.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/simulator.h"

namespace {

// Resident set size now (VmRSS of /proc/self/status), in bytes.
int64_t CurrentRss() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

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

  // (1) Memory per idle person.
  tacit::PopulationSpec spec;
  spec.source = "generator";
  spec.people = people;
  spec.seed = 1;
  spec.vocab_size = 4096;
  spec.vocab_salt = "bench";
  int64_t before = CurrentRss();
  auto population = tacit::LoadPopulation(spec);
  if (!population.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", std::string(population.status().message()).c_str());
    return 1;
  }
  int64_t after = CurrentRss();
  if (before < 0 || after < 0) {
    std::fprintf(stderr, "sim_bench: cannot read VmRSS from /proc/self/status\n");
    return 1;
  }
  int64_t tokens = 0;
  for (const auto& p : *population) tokens += p.train.size() + p.test.size();
  std::fprintf(stderr,
               "| population | people | tokens per person | RSS growth | bytes per idle person "
               "|\n|---|---|---|---|---|\n");
  std::fprintf(stderr, "| generator, %d events each | %d | %.0f | %.1f MiB | %.0f |\n\n",
               tacit::kDefaultGeneratedEvents, people, static_cast<double>(tokens) / people,
               (after - before) / 1048576.0, static_cast<double>(after - before) / people);
  report.figures()["population"] = {
      {"people", people},
      {"tokens_per_person", static_cast<double>(tokens) / people},
      {"rss_growth_bytes", after - before},
      {"bytes_per_idle_person", static_cast<double>(after - before) / people}};

  // (2) Overhead per round of a small federation with secure aggregation.
  nlohmann::json json = {
      {"name", "bench"},
      {"seed", 3},
      {"population", {{"source", "generator"}, {"people", 2 * cohort}}},
      {"task",
       {{"name", "bench"},
        {"model",
         {{"name", "gru"},
          {"hyperparameters", {{"embedding_dim", 48}, {"hidden_dim", 96}, {"window", 32}}}}},
        {"vocab", {{"size", 4096}, {"salt", "bench"}}},  // as the population above
        {"rounds", rounds},
        {"cohort", {{"size", cohort}, {"over_selection", 1.0}}},
        {"secure_agg", {{"bits", 40}}},
        {"dp", {{"clip_norm", 100.0}}},
        {"training", {{"epochs", 1}, {"batch_size", 16}, {"lr", 0.003}, {"optimizer", "adam"}}}}},
      {"simulation", {{"eval_every", 1000}}}};
  auto config = tacit::sim::ParseExperimentConfig(json);
  if (!config.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  std::vector<tacit::PersonTokens> fleet(population->begin(), population->begin() + 2 * cohort);
  population->clear();
  population->shrink_to_fit();
  auto result = tacit::sim::RunSimulation(*config, fleet);
  if (!result.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  report.Require(static_cast<int>(result->rounds.size()) == rounds,
                 absl::StrFormat("%d rounds (%zu ran)", rounds, result->rounds.size()));
  std::vector<double> wall, train, secagg, overhead, share;
  for (const auto& r : result->rounds) {
    if (!report.Require(r.outcome == "committed",
                        absl::StrFormat("round %d committed (%s)", r.round, r.outcome))) {
      continue;
    }
    double rest = r.wall_seconds - r.train_wall_seconds - r.secagg_seconds;
    wall.push_back(r.wall_seconds);
    train.push_back(r.train_wall_seconds);
    secagg.push_back(r.secagg_seconds);
    overhead.push_back(rest);
    share.push_back(rest / r.wall_seconds);
  }
  std::fprintf(stderr,
               "| cohort | rounds | round wall s | training s | secure aggregation s | overhead s "
               "| overhead share |\n|---|---|---|---|---|---|---|\n");
  std::fprintf(stderr, "| %d | %zu | %.3f | %.3f | %.3f | %.4f | %.2f%% |\n", cohort,
               result->rounds.size(), Median(wall), Median(train), Median(secagg), Median(overhead),
               100 * Median(share));
  std::fprintf(stderr,
               "\n(medians over rounds; overhead = round wall - parallel training - secure "
               "aggregation protocol; evaluation excluded)\n");
  report.figures()["rounds"] = {{"cohort", cohort},
                                {"rounds", result->rounds.size()},
                                {"median_round_wall_seconds", Median(wall)},
                                {"median_training_seconds", Median(train)},
                                {"median_secure_aggregation_seconds", Median(secagg)},
                                {"median_overhead_seconds", Median(overhead)},
                                {"median_overhead_share", Median(share)}};
  report.RequireFigure("/rounds/median_round_wall_seconds");
  return report.Finish(common.json_path, 0);
}
