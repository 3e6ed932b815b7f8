// How long LoadPopulation takes per source (events -> filter -> tokens ->
// split), single-threaded, so simulations can plan their start-up.
//
// Usage: build/bench/client_population_bench [DATA_DIR] [GENERATED_PEOPLE] [--json FILE]
//   DATA_DIR defaults to $TACIT_SHARED_DATA_DIR or ../shared/data.
// The table goes to stderr, the JSON report (bench/common) to stdout or FILE;
// a source that does not load, or loads no one, exits 1.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "client/examples/population.h"

int main(int argc, char** argv) {
  const char* env = std::getenv("TACIT_SHARED_DATA_DIR");
  std::string data = env != nullptr ? env : "../shared/data";
  int generated = 1000;
  CLI::App app{"LoadPopulation's time per source, single-threaded", "client_population_bench"};
  app.add_option("data_dir", data, "the shared data folder")->capture_default_str();
  app.add_option("generated_people", generated, "people the generator makes")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  tacit::bench::CommonFlags common;
  tacit::bench::AddCommonFlags(app, &common);
  if (auto exit_code = tacit::bench::ParseFlags(app, argc, argv)) return *exit_code;
  tacit::bench::BenchReport report("client_population_bench");
  nlohmann::json rows = nlohmann::json::array();
  struct Case {
    std::string name, source, path;
    int people;
  };
  // Every event of every person (max_events_per_person 0); the generator makes
  // its default length. The table says what was loaded: the events counted.
  const Case cases[] = {
      {"sea-commands", "sea-commands", data + "/sea-commands", 0},
      {"aalto-keystrokes", "aalto-keystrokes", data + "/aalto-keystrokes", 0},
      {"balabit-mouse", "balabit-mouse", data + "/balabit-mouse", 0},
      {"generator", "generator", "", generated},
  };
  std::fprintf(stderr, "| %-18s | %7s | %13s | %11s | %8s | %12s |\n", "source", "people", "events",
               "tokens", "seconds", "tokens/s");
  std::fprintf(stderr,
               "|--------------------|---------|---------------|-------------|----------|------"
               "--------|\n");
  for (const Case& c : cases) {
    tacit::PopulationSpec spec;
    spec.source = c.source;
    spec.path = c.path;
    spec.people = c.people;
    tacit::PopulationLoadReport load;
    const auto start = std::chrono::steady_clock::now();
    auto people = tacit::LoadPopulation(spec, &load);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!report.Require(people.ok() && !people->empty(),
                        c.name + " loaded (" +
                            (people.ok() ? "no one" : std::string(people.status().message())) +
                            ")")) {
      continue;
    }
    size_t tokens = 0;
    for (const tacit::PersonTokens& p : *people) tokens += p.train.size() + p.test.size();
    int64_t events = 0;
    for (const tacit::PersonLoadReport& p : load.people) events += p.events;
    std::fprintf(stderr, "| %-18s | %7zu | %13lld | %11zu | %8.2f | %12.0f |\n", c.name.c_str(),
                 people->size(), static_cast<long long>(events), tokens, seconds,
                 static_cast<double>(tokens) / seconds);
    rows.push_back({{"source", c.name},
                    {"people", people->size()},
                    {"events", events},
                    {"event_limit", tacit::DescribeEventLimit(load.event_limit)},
                    {"tokens", tokens},
                    {"seconds", seconds},
                    {"tokens_per_second", static_cast<double>(tokens) / seconds}});
  }
  std::fprintf(stderr, "(events: raw events read, or made by the generator, %s)\n",
               "before the privacy filter");
  report.figures()["rows"] = rows;
  return report.Finish(common.json_path, 1);
}
