// tacit-sim: simulated federations for researchers, on the fleet generator or
// real per-person logs, with the production round, secure aggregation and
// trainer code. See docs/simulation.md.

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/examples/population.h"
#include "common/parallel_for.h"
#include "models/blas_kernels.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "models/training.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/simulator.h"
#include "simulations/report/progress_line.h"
#include "simulations/report/run_output.h"
#include "task/ddg_task.h"
#include "task/ring_bits.h"

namespace {

using tacit::sim::ExperimentConfig;

std::string DefaultOutputFolder(const std::string& name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return absl::StrCat("runs/", name, "-", stamp);
}

std::string HumanBytes(double bytes) {
  if (bytes >= 1 << 30) return absl::StrFormat("%.2f GiB", bytes / (1 << 30));
  if (bytes >= 1 << 20) return absl::StrFormat("%.1f MiB", bytes / (1 << 20));
  return absl::StrFormat("%.1f KiB", bytes / 1024);
}

std::string Describe(const tacit::PopulationSpec& p, size_t people) {
  if (p.source == "generator") {
    return absl::StrCat(people, " people from the built-in fleet generator (seed ", p.seed, ")");
  }
  return absl::StrCat(people, " people from ", p.source, " at ", p.path);
}

// "fedadam, lr 0.03 (halving every 40 rounds), beta1 0.9, beta2 0.99, tau 0.001"
std::string DescribeServerOptimizer(const tacit::ServerOptimizerConfig& o) {
  std::string out = absl::StrCat(tacit::ServerOptimizerName(o.type), ", lr ", o.lr);
  if (o.lr_half_life_rounds > 0) {
    absl::StrAppend(&out, " (halving every ", o.lr_half_life_rounds, " rounds)");
  }
  if (o.type == tacit::ServerOptimizerType::kFedAvgM) {
    absl::StrAppend(&out, ", momentum ", o.momentum);
  } else if (o.type == tacit::ServerOptimizerType::kFedAdam) {
    absl::StrAppend(&out, ", beta1 ", o.beta1, ", beta2 ", o.beta2, ", tau ", o.epsilon);
  }
  return out;
}

// "sgd lr 0.5, 1 epoch of batch 16, window stride 32"
std::string DescribeLocalTraining(const tacit::LocalTrainingConfig& t) {
  std::string out =
      absl::StrCat(t.optimizer, " lr ", t.lr, ", ", t.epochs, t.epochs == 1 ? " epoch" : " epochs",
                   " of batch ", t.batch_size, ", window stride ");
  absl::StrAppend(&out, t.window_stride > 0 ? absl::StrCat(t.window_stride) : "the window");
  if (t.fedprox_mu > 0) absl::StrAppend(&out, ", FedProx mu ", t.fedprox_mu);
  return out;
}

// The DP line of the summary: mechanism, noise, accounting and, for the
// discrete Gaussian, the plan every laptop makes (bits, grid, rotated length).
// The ring (explicit or planned), the compression and what the inputs cost:
// bytes sent per input per model parameter, measured.
std::string SecureAggDescription(const tacit::TaskConfig& task, int64_t model_length,
                                 int64_t bytes_up, int64_t inputs, int64_t clipped,
                                 int64_t rotated) {
  absl::StatusOr<int> bits = tacit::RingBitsOfTask(task, model_length);
  std::string line =
      bits.ok() ? absl::StrCat(*bits, "-bit ring",
                               task.secure_agg.bits == tacit::kAutoBits ? " (planned)" : "")
                : absl::StrCat("no ring: ", bits.status().message());
  const tacit::CompressionConfig& c = task.secure_agg.compression;
  if (c.type == tacit::CompressionType::kRotatedQuantization) {
    absl::StrAppendFormat(&line,
                          ", rotated quantization: %d bits per coordinate, range %.3g sigma; "
                          "%lld of %lld rotated coordinates clipped",
                          c.bits_per_coordinate, c.range_sigmas, static_cast<long long>(clipped),
                          static_cast<long long>(rotated));
  }
  if (inputs > 0 && model_length > 0) {
    absl::StrAppendFormat(&line, "; %.3f bytes per parameter per input sent",
                          static_cast<double>(bytes_up) / static_cast<double>(inputs) /
                              static_cast<double>(model_length));
  }
  return line;
}

std::string DescribeDp(const tacit::TaskConfig& task, double epsilon, int64_t model_length) {
  const tacit::DpConfig& dp = task.dp;
  if (dp.noise_multiplier <= 0) {
    return absl::StrFormat("update clip %.2f, no noise (no formal guarantee)", dp.clip_norm);
  }
  std::string line = absl::StrFormat(
      "%s, noise multiplier %.4g, clip %.3g, epsilon %.3f at delta %g (RDP, q %g per round: "
      "sampling %s)",
      tacit::DpMechanismName(dp.mechanism), dp.noise_multiplier, dp.clip_norm, epsilon, dp.delta,
      dp.AccountedSamplingRate(), tacit::DpSamplingName(dp.sampling));
  if (tacit::UsesDiscreteGaussian(task)) {
    absl::StatusOr<tacit::privacy::DdgPlan> plan =
        tacit::DdgPlanOfTask(task, task.cohort.min_survivors, model_length);
    if (plan.ok()) {
      absl::StrAppendFormat(&line,
                            "; %d bits per coordinate, %lld rotated coordinates, grid %.3g, "
                            "local integer sigma %.4g, wrap <= %.1e per round",
                            plan->bits, static_cast<long long>(plan->mechanism.dim),
                            plan->mechanism.gamma, std::sqrt(plan->mechanism.local_variance),
                            plan->wrap_probability);
    }
  }
  return line;
}

int Run(const std::string& config_path, std::string out, const std::string& transport) {
  auto config = tacit::sim::LoadExperimentConfigFile(config_path, transport);
  if (!config.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (out.empty()) out = DefaultOutputFolder(config->name);
  if (config->transport == "grpc") {
    // One short-lived thread per seated client: glibc would give each its own
    // malloc arena and keep their freed memory (the demo's peak RSS doubles).
    // A few shared arenas are plenty for `workers` trainers at a time.
    mallopt(M_ARENA_MAX, 2 * tacit::ResolveWorkers(config->workers));
  }
  config->population.seed = config->seed;
  std::fprintf(stderr, "tacit-sim: loading population (%s)...\n",
               config->population.source.c_str());
  auto people = tacit::LoadPopulation(config->population);
  if (!people.ok()) {
    std::fprintf(stderr, "tacit-sim: cannot load the population: %s\n",
                 std::string(people.status().message()).c_str());
    return 1;
  }
  auto layout = tacit::LayoutOf(config->model);
  if (!layout.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(layout.status().message()).c_str());
    return 2;
  }
  auto output = tacit::sim::RunOutput::Create(out, tacit::sim::ExperimentConfigToJson(*config));
  if (!output.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(output.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "tacit-sim: %s; model %s with %lld parameters; %d rounds of %d clients; secure "
               "aggregation %s; transport %s\n",
               Describe(config->population, people->size()).c_str(), config->model.name.c_str(),
               static_cast<long long>(layout->total_size), config->task.rounds,
               config->task.SelectedPerRound(), config->secure_aggregation ? "on" : "OFF",
               config->transport == "grpc" ? "gRPC with mutual TLS on loopback" : "in-process");

  tacit::sim::ProgressLine progress(config->task.rounds);
  tacit::sim::SimulationHooks hooks;
  hooks.output = output->get();
  hooks.progress = &progress;
  hooks.grpc_folder = out + "/grpc";
  auto start = std::chrono::steady_clock::now();
  auto result = tacit::sim::RunSimulation(*config, *people, hooks);
  progress.Close();
  if (!result.ok()) {
    std::fprintf(stderr, "tacit-sim: simulation failed: %s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  tacit::ModelFile model;
  model.model_version = result->model_version;
  model.config = config->model;
  model.layout_hash = layout->hash;
  model.parameters = result->final_parameters;
  const std::string model_file = "final_model.tacitmodel";
  if (auto saved = tacit::SaveModelFile(out + "/" + model_file, model); !saved.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(saved.message()).c_str());
    return 1;
  }

  int64_t bytes_up = 0, clipped = 0, rotated = 0, inputs = 0;
  int committed = 0;
  for (const auto& r : result->rounds) {
    bytes_up += r.bytes_up;
    committed += r.outcome == "committed";
    clipped += r.clipped_after_rotation;
    rotated += r.rotated_coordinates;
    inputs += r.participants;
  }
  const std::string ring = SecureAggDescription(
      config->task, static_cast<int64_t>(layout->total_size), bytes_up, inputs, clipped, rotated);
  tacit::sim::RunSummary summary;
  summary.title = config->name;
  summary.facts = {
      {"population", Describe(config->population, people->size())},
      {"model", absl::StrCat(config->model.name, ", ", layout->total_size, " parameters, layout ",
                             layout->hash)},
      {"server optimizer", DescribeServerOptimizer(config->task.server_optimizer)},
      {"local training", DescribeLocalTraining(config->task.training)},
      {"clients per round", absl::StrCat(config->task.SelectedPerRound(),
                                         " selected for a cohort of ", config->task.cohort.size)},
      {"weighting",
       config->task.aggregation.weighting == tacit::Weighting::kExamples
           ? absl::StrCat("by training examples, capped at ", config->task.aggregation.max_weight)
           : "uniform (every client weighs 1)"},
      // Training speed depends on the BLAS kernels (OpenBLAS may fall back to
      // generic ones on some CPUs): every figure names them.
      {"BLAS", tacit::BlasDescription()},
      {"secure aggregation", config->secure_aggregation
                                 ? absl::StrCat("on, ", ring)
                                 : absl::StrCat("off (plain sum, for comparison only); ", ring)},
      {"differential privacy",
       DescribeDp(config->task, result->epsilon, static_cast<int64_t>(layout->total_size))},
      {"seed", absl::StrCat(config->seed)}};
  summary.reference_top1 = config->reference_top1;
  summary.reference_label = config->reference_label;
  summary.final_model_file = model_file;
  if (auto finished = (*output)->Finish(summary); !finished.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(finished.message()).c_str());
    return 1;
  }

  const auto& rounds = result->rounds;
  const tacit::sim::RoundRecord* last = nullptr;
  for (const auto& r : rounds) {
    if (r.outcome == "committed") last = &r;
  }
  std::printf("\n== %s: %d of %d rounds committed in %s ==\n", config->name.c_str(), committed,
              config->task.rounds, tacit::sim::ProgressLine::FormatDuration(seconds).c_str());
  std::printf(
      "seed %llu; secure aggregation %s; DP %s; weighting %s; BLAS %s\n",
      static_cast<unsigned long long>(config->seed), config->secure_aggregation ? "on" : "OFF",
      config->task.dp.noise_multiplier > 0
          ? absl::StrFormat("%s z %.4g, epsilon %.3f at delta %g, q %g",
                            tacit::DpMechanismName(config->task.dp.mechanism),
                            config->task.dp.noise_multiplier, result->epsilon,
                            config->task.dp.delta, config->task.dp.AccountedSamplingRate())
                .c_str()
          : "off",
      tacit::WeightingName(config->task.aggregation.weighting), tacit::BlasDescription().c_str());
  if (last != nullptr) {
    std::printf(
        "global model v%lld: next-event top-1 %.3f, top-3 %.3f (pooled over %zu people; "
        "macro top-1 %.3f)\n",
        static_cast<long long>(result->model_version), last->top1_pooled, last->top3_pooled,
        people->size(), last->top1_macro);
  }
  std::printf(
      "privacy: raw activity never left the simulated laptops; they sent only %s of %s "
      "updates in total\n",
      HumanBytes(static_cast<double>(bytes_up)).c_str(),
      config->secure_aggregation ? "masked" : "UNMASKED (secure aggregation off)");
  std::printf(
      "results: %s/summary.md (report), accuracy.svg and loss.svg (plots), rounds.csv, "
      "rounds.jsonl, %s\n",
      out.c_str(), model_file.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tacit::UseBestBlasKernels(argv);  // before any thread: it may restart the program
  CLI::App app{
      "tacit-sim: simulated federations with the production client and coordinator "
      "code (secure aggregation, local training, server optimizer)"};
  app.require_subcommand(1);
  std::string config_path, out, transport;
  CLI::App* run = app.add_subcommand("run", "run the experiment of a config file");
  run->add_option("--config", config_path, "experiment config (JSON), see docs/simulation.md")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--out", out, "output folder (default runs/<name>-<time>)");
  run->add_option("--transport", transport,
                  "override simulation.transport: in_process, or grpc (the coordinator service "
                  "and fleet clients over loopback with mutual TLS)");
  CLI11_PARSE(app, argc, argv);
  return Run(config_path, out, transport);
}
