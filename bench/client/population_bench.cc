// How long LoadPopulation takes per source (events -> filter -> tokens ->
// split), single-threaded, so simulations can plan their start-up.
//
// Usage: build/bench/client_population_bench [DATA_DIR] [GENERATED_PEOPLE]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/examples/population.h"

int main(int argc, char** argv) {
  const char* env = std::getenv("TACIT_SHARED_DATA_DIR");
  const std::string data = argc > 1 ? argv[1] : env != nullptr ? env : "../shared/data";
  const int generated = argc > 2 ? std::atoi(argv[2]) : 1000;
  struct Case {
    std::string name, source, path;
    int people;
  };
  const Case cases[] = {
      {"sea-commands (first 5,000 each)", "sea-commands", data + "/sea-commands", 0},
      {"aalto-keystrokes", "aalto-keystrokes", data + "/aalto-keystrokes", 0},
      {"balabit-mouse", "balabit-mouse", data + "/balabit-mouse", 0},
      {"generator (5,000 raw events each)", "generator", "", generated},
  };
  std::printf("| %-34s | %7s | %11s | %8s | %12s |\n", "source", "people", "tokens", "seconds",
              "tokens/s");
  std::printf(
      "|------------------------------------|---------|-------------|----------|--------------|\n");
  for (const Case& c : cases) {
    tacit::PopulationSpec spec;
    spec.source = c.source;
    spec.path = c.path;
    spec.people = c.people;
    const auto start = std::chrono::steady_clock::now();
    auto people = tacit::LoadPopulation(spec);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!people.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(),
                   std::string(people.status().message()).c_str());
      return 1;
    }
    size_t tokens = 0;
    for (const tacit::PersonTokens& p : *people) tokens += p.train.size() + p.test.size();
    std::printf("| %-34s | %7zu | %11zu | %8.2f | %12.0f |\n", c.name.c_str(), people->size(),
                tokens, seconds, static_cast<double>(tokens) / seconds);
  }
  return 0;
}
