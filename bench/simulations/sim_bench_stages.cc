#include "bench/simulations/sim_bench_stages.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/examples/population.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/simulator.h"

namespace tacit::bench {
namespace {

// Resident set size now (VmRSS of /proc/self/status), in bytes; -1 unreadable.
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

std::vector<PersonTokens> MeasureIdlePeople(int people, BenchReport& report) {
  PopulationSpec spec;
  spec.source = "generator";
  spec.people = people;
  spec.seed = 1;
  spec.vocab_size = 4096;
  spec.vocab_salt = "bench";
  const int64_t before = CurrentRss();
  auto population = LoadPopulation(spec);
  if (!report.Require(population.ok(), absl::StrCat("population of ", people, " generated (",
                                                    population.status().message(), ")"))) {
    return {};
  }
  const int64_t after = CurrentRss();
  if (!report.Require(before >= 0 && after >= 0,
                      "memory per idle person (VmRSS unreadable in /proc/self/status)")) {
    return *std::move(population);
  }
  int64_t tokens = 0;
  for (const PersonTokens& p : *population) tokens += p.train.size() + p.test.size();
  std::fprintf(stderr,
               "| population | people | tokens per person | RSS growth | bytes per idle person "
               "|\n|---|---|---|---|---|\n");
  std::fprintf(stderr, "| generator, %d events each | %d | %.0f | %.1f MiB | %.0f |\n\n",
               kDefaultGeneratedEvents, people, static_cast<double>(tokens) / people,
               (after - before) / 1048576.0, static_cast<double>(after - before) / people);
  report.figures()["population"] = {
      {"people", people},
      {"tokens_per_person", static_cast<double>(tokens) / people},
      {"rss_growth_bytes", after - before},
      {"bytes_per_idle_person", static_cast<double>(after - before) / people}};
  return *std::move(population);
}

void MeasureRoundOverhead(std::vector<PersonTokens> fleet, int rounds, int cohort,
                          BenchReport& report) {
  const std::string what = absl::StrFormat("%d rounds of %d clients", rounds, cohort);
  const size_t needed = 2 * static_cast<size_t>(std::max(cohort, 0));
  if (!report.Require(cohort >= 3 && fleet.size() >= needed,
                      absl::StrFormat("%s (%zu people to run them on; %zu needed)", what,
                                      fleet.size(), needed))) {
    return;
  }
  fleet.resize(needed);
  nlohmann::json json = {
      {"name", "bench"},
      {"seed", 3},
      {"population", {{"source", "generator"}, {"people", 2 * cohort}}},
      {"task",
       {{"name", "bench"},
        {"model",
         {{"name", "gru"},
          {"hyperparameters", {{"embedding_dim", 48}, {"hidden_dim", 96}, {"window", 32}}}}},
        {"vocab", {{"size", 4096}, {"salt", "bench"}}},  // as the population
        {"rounds", rounds},
        {"cohort", {{"size", cohort}, {"over_selection", 1.0}}},
        {"secure_agg", {{"bits", 40}}},
        {"dp", {{"clip_norm", 100.0}}},
        {"training", {{"epochs", 1}, {"batch_size", 16}, {"lr", 0.003}, {"optimizer", "adam"}}}}},
      {"simulation", {{"eval_every", 1000}}}};
  auto config = sim::ParseExperimentConfig(json);
  if (!report.Require(config.ok(), absl::StrCat(what, " (the bench's config: ",
                                                config.status().message(), ")"))) {
    return;
  }
  auto result = sim::RunSimulation(*config, fleet);
  if (!report.Require(result.ok(), absl::StrCat(what, " (", result.status().message(), ")"))) {
    return;
  }
  report.Require(static_cast<int>(result->rounds.size()) == rounds,
                 absl::StrFormat("%d rounds (%zu ran)", rounds, result->rounds.size()));
  std::vector<double> wall, train, secagg, overhead, share;
  for (const auto& r : result->rounds) {
    if (!report.Require(r.outcome == "committed",
                        absl::StrFormat("round %d committed (%s)", r.round, r.outcome))) {
      continue;
    }
    const double rest = r.wall_seconds - r.train_wall_seconds - r.secagg_seconds;
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
}

}  // namespace tacit::bench
