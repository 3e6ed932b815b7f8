#include "bench/simulations/sim_bench_stages.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/examples/population.h"
#include "client/examples/population_source.h"
#include "common/parallel_for.h"
#include "models/training.h"
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

// The bench's generated people: seed 1, its own vocabulary.
PopulationSpec BenchSpec(int people) {
  PopulationSpec spec;
  spec.source = "generator";
  spec.people = people;
  spec.seed = 1;
  spec.vocab_size = 4096;
  spec.vocab_salt = "bench";
  return spec;
}

// Bytes malloc has handed out and not taken back (glibc mallinfo2).
int64_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

void MeasureIdlePeople(int people, BenchReport& report) {
  const PopulationSpec spec = BenchSpec(people);
  const int64_t rss_before = CurrentRss();
  const int64_t heap_before = HeapInUse();
  auto population = GeneratedPopulation::Create(spec);
  if (!report.Require(population.ok(), absl::StrCat("population of ", people, " opened (",
                                                    population.status().message(), ")"))) {
    return;
  }
  const int64_t rss_after = CurrentRss();
  const int64_t heap_after = HeapInUse();
  // The people are there: the last one generates when asked (and is let go).
  const auto start = std::chrono::steady_clock::now();
  auto last = (*population)->Materialize(static_cast<size_t>(people - 1));
  const double materialize_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report.Require(last.ok() && !(*last)->train.empty(),
                      absl::StrCat("person ", people - 1, " generated (",
                                   last.ok() ? "no tokens" : last.status().message(), ")"))) {
    return;
  }
  const size_t tokens = (*last)->train.size() + (*last)->test.size();
  if (!report.Require(rss_before >= 0 && rss_after >= 0,
                      "memory per idle person (VmRSS unreadable in /proc/self/status)")) {
    return;
  }
  // The larger of the two growths: resident pages can hide small heap use,
  // and the heap misses what is not malloc'ed.
  const int64_t grown = std::max(rss_after - rss_before, heap_after - heap_before);
  const double per_person = static_cast<double>(std::max<int64_t>(grown, 0)) / people;
  std::fprintf(stderr,
               "| population | people | tokens per person | RSS growth | heap growth | bytes per "
               "idle person | one person generated in |\n|---|---|---|---|---|---|---|\n");
  std::fprintf(stderr,
               "| generator (lazy), %d events each | %d | %zu | %.1f KiB | %.1f KiB | %.3f | "
               "%.1f ms |\n\n",
               kDefaultGeneratedEvents, people, tokens, (rss_after - rss_before) / 1024.0,
               (heap_after - heap_before) / 1024.0, per_person, 1000 * materialize_seconds);
  report.figures()["population"] = {{"people", people},
                                    {"lazy", true},
                                    {"tokens_per_person", tokens},
                                    {"rss_growth_bytes", rss_after - rss_before},
                                    {"heap_growth_bytes", heap_after - heap_before},
                                    {"bytes_per_idle_person", per_person},
                                    {"materialize_person_seconds", materialize_seconds}};
}

std::vector<PersonTokens> BenchFleet(int people, BenchReport& report) {
  const PopulationSpec spec = BenchSpec(people);
  auto fleet = LoadPopulation(spec);
  if (!report.Require(fleet.ok(), absl::StrCat("fleet of ", people, " generated (",
                                               fleet.status().message(), ")"))) {
    return {};
  }
  return *std::move(fleet);
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
  double updates = 0, training_seconds = 0;
  for (const auto& r : result->rounds) {
    if (!report.Require(r.outcome == "committed",
                        absl::StrFormat("round %d committed (%s)", r.round, r.outcome))) {
      continue;
    }
    const double rest = r.wall_seconds - r.train_wall_seconds - r.secagg_seconds;
    updates += r.selected - r.stragglers;
    training_seconds += r.train_wall_seconds;
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
  const int cores = ResolveWorkers(0);
  const double per_core = training_seconds > 0 ? updates / training_seconds / cores : 0;
  std::fprintf(stderr,
               "\n| updates trained | training wall s | cores | client updates per second per "
               "core |\n|---|---|---|---|\n| %.0f | %.3f | %d | %.3f |\n(BLAS: %s)\n",
               updates, training_seconds, cores, per_core, BlasDescription().c_str());
  report.Require(updates > 0 && training_seconds > 0,
                 "client updates per second per core (no update trained)");
  report.figures()["rounds"] = {{"cohort", cohort},
                                {"rounds", result->rounds.size()},
                                {"median_round_wall_seconds", Median(wall)},
                                {"median_training_seconds", Median(train)},
                                {"median_secure_aggregation_seconds", Median(secagg)},
                                {"median_overhead_seconds", Median(overhead)},
                                {"median_overhead_share", Median(share)},
                                {"updates_trained", updates},
                                {"training_wall_seconds", training_seconds},
                                {"cores", cores},
                                {"updates_per_second_per_core", per_core}};
}

}  // namespace tacit::bench
