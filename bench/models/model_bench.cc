// model_bench: one local round (TrainLocally, 1 thread) per registered model
// on one person's data: throughput and peak memory, as a table.
//
//   build/bench/model_bench [--data ../shared/data/sea-commands] [--epochs 5]
//
// Each model runs in a forked child so its peak RSS (wait4's ru_maxrss) is its
// own. Targets (issue 4): 5 epochs over 4,000 events < 10 s, peak < 200 MiB.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "client/examples/population.h"
#include "models/blas_kernels.h"
#include "models/parameter_layout.h"
#include "models/training.h"
#include "tests/support/shared_data.h"

namespace {

struct RoundFigures {
  double seconds = 0.0;
  int64_t tokens = 0;  // predicted tokens over all epochs
  int steps = 0;
  double loss = 0.0;
  bool ok = false;
};

// A Zipf-distributed stream with habits, for when the real data is absent.
std::vector<int32_t> SyntheticTokens(size_t n, uint32_t vocab) {
  std::mt19937_64 rng(7);
  std::vector<int32_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    out[i] = 1 + static_cast<int32_t>(std::pow(u, 3.0) * (vocab - 2));
    if (i > 0 && rng() % 2) out[i] = out[i - 1] % 50 + 1;
  }
  return out;
}

RoundFigures RunRound(const tacit::ModelConfig& config, const std::vector<int32_t>& tokens,
                      const tacit::TrainOptions& options) {
  RoundFigures f;
  auto global = tacit::InitialParameters(config, 1);
  if (!global.ok()) return f;
  auto update = tacit::TrainLocally(config, *global, tokens, options);
  if (!update.ok()) {
    std::fprintf(stderr, "%s: %s\n", config.name.c_str(),
                 std::string(update.status().message()).c_str());
    return f;
  }
  f.seconds = update->seconds;
  f.tokens = update->examples * options.epochs;
  f.steps = update->steps;
  f.loss = update->train_loss;
  f.ok = true;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  tacit::UseBestBlasKernels(argv);  // before any thread: it may restart the program
  CLI::App app{"model_bench: one local training round per registered model"};
  std::string data = tacit::testing::SharedDataDir();
  if (!data.empty()) data += "/sea-commands";
  int events = 5000;
  tacit::TrainOptions options;
  options.epochs = 5;
  options.threads = 1;
  app.add_option("--data", data, "SEA folder (first person's first --events commands)");
  app.add_option("--events", events, "events of the person (80% train)");
  app.add_option("--epochs", options.epochs);
  app.add_option("--batch-size", options.batch_size);
  CLI11_PARSE(app, argc, argv);

  std::vector<int32_t> tokens;
  std::string source = "synthetic Zipf stream";
  if (!data.empty() && tacit::testing::DirectoryExists(data)) {
    tacit::PopulationSpec spec;
    spec.source = "sea-commands";
    spec.path = data;
    spec.people = 1;
    spec.max_events_per_person = events;
    auto persons = tacit::LoadPopulation(spec);
    if (persons.ok() && !persons->empty()) {
      tokens = (*persons)[0].train;
      source = "SEA " + (*persons)[0].person_id;
    }
  }
  if (tokens.empty()) tokens = SyntheticTokens(static_cast<size_t>(events * 0.8), 4096);

  // Only dlsym here: LibTorch's thread pools must not exist before fork().
  std::printf("BLAS: %s\n", tacit::BlasDescription().c_str());
  std::printf("data: %s, %zu train tokens; %d epochs, batch %d, 1 thread\n\n", source.c_str(),
              tokens.size(), options.epochs, options.batch_size);
  double load[1] = {0.0};
  if (getloadavg(load, 1) == 1) {
    std::printf("load average %.1f on %ld cores (under contention wall time exceeds CPU time)\n\n",
                load[0], sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::printf(
      "| model | parameters | steps | wall s | CPU s | tokens/s (wall) | peak RSS MiB | wall < 10 "
      "s "
      "| < 200 MiB |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  bool all_ok = true;
  for (const tacit::ModelConfig& config :
       {tacit::DefaultGruConfig(), tacit::DefaultTransformerConfig()}) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      RoundFigures f = RunRound(config, tokens, options);
      (void)!write(fds[1], &f, sizeof(f));
      _exit(f.ok ? 0 : 1);
    }
    close(fds[1]);
    RoundFigures f;
    const bool got = read(fds[0], &f, sizeof(f)) == static_cast<ssize_t>(sizeof(f));
    close(fds[0]);
    int status = 0;
    struct rusage usage {};
    wait4(child, &status, 0, &usage);
    const double peak_mib = usage.ru_maxrss / 1024.0;  // KiB on Linux
    if (!got || !f.ok) {
      std::printf("| %s | failed | | | | | | | |\n", config.name.c_str());
      all_ok = false;
      continue;
    }
    const bool fast = f.seconds < 10.0, small = peak_mib < 200.0;
    const double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 +
                       usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6;
    std::printf("| %s | %lld | %d | %.2f | %.2f | %.0f | %.0f | %s | %s |\n", config.name.c_str(),
                static_cast<long long>(tacit::LayoutOf(config)->total_size), f.steps, f.seconds,
                cpu, f.tokens / f.seconds, peak_mib, fast ? "yes" : "NO", small ? "yes" : "NO");
    std::fflush(stdout);
  }
  return all_ok ? 0 : 1;
}
