#include "simulations/federation/run_experiment.h"

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/examples/population.h"
#include "client/examples/population_source.h"
#include "common/byte_size.h"
#include "common/file_io.h"
#include "common/parallel_for.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "models/training.h"
#include "simulations/federation/inspect_data.h"
#include "simulations/federation/personal_evaluation.h"
#include "simulations/federation/simulator.h"
#include "simulations/federation/weighting.h"
#include "simulations/report/compare_runs.h"
#include "simulations/report/progress_line.h"
#include "simulations/report/run_output.h"
#include "task/ddg_task.h"
#include "task/ring_bits.h"

namespace tacit::sim {

namespace {

std::string Describe(const PopulationSpec& p, size_t people) {
  if (p.source == "generator") {
    return absl::StrCat(people, " people from the built-in fleet generator (seed ", p.seed, ")");
  }
  return absl::StrCat(people, " people from ", p.source, " at ", p.path);
}

// "fedadam, lr 0.03 (halving every 40 rounds), beta1 0.9, beta2 0.99, tau 0.001"
std::string DescribeServerOptimizer(const ServerOptimizerConfig& o) {
  std::string out = absl::StrCat(ServerOptimizerName(o.type), ", lr ", o.lr);
  if (o.lr_half_life_rounds > 0) {
    absl::StrAppend(&out, " (halving every ", o.lr_half_life_rounds, " rounds)");
  }
  if (o.type == ServerOptimizerType::kFedAvgM) {
    absl::StrAppend(&out, ", momentum ", o.momentum);
  } else if (o.type == ServerOptimizerType::kFedAdam) {
    absl::StrAppend(&out, ", beta1 ", o.beta1, ", beta2 ", o.beta2, ", tau ", o.epsilon);
  }
  return out;
}

// "sgd lr 0.5, 1 epoch of batch 16, window stride 32"
std::string DescribeLocalTraining(const LocalTrainingConfig& t) {
  std::string out =
      absl::StrCat(t.optimizer, " lr ", t.lr, ", ", t.epochs, t.epochs == 1 ? " epoch" : " epochs",
                   " of batch ", t.batch_size, ", window stride ");
  absl::StrAppend(&out, t.window_stride > 0 ? absl::StrCat(t.window_stride) : "the window");
  if (t.fedprox_mu > 0) absl::StrAppend(&out, ", FedProx mu ", t.fedprox_mu);
  return out;
}

// The ring (explicit or planned), the compression and what the inputs cost:
// bytes sent per input per model parameter, measured.
// `clipped` and `rotated` are absent when no round measured them (gRPC).
std::string SecureAggDescription(const TaskConfig& task, int64_t model_length, int64_t bytes_up,
                                 int64_t inputs, std::optional<int64_t> clipped,
                                 std::optional<int64_t> rotated) {
  absl::StatusOr<int> bits = RingBitsOfTask(task, model_length);
  std::string line = bits.ok() ? absl::StrCat(*bits, "-bit ring",
                                              task.secure_agg.bits == kAutoBits ? " (planned)" : "")
                               : absl::StrCat("no ring: ", bits.status().message());
  const CompressionConfig& c = task.secure_agg.compression;
  if (c.type == CompressionType::kRotatedQuantization) {
    absl::StrAppendFormat(&line,
                          ", rotated quantization: %d bits per coordinate, range %.3g sigma; ",
                          c.bits_per_coordinate, c.range_sigmas);
    absl::StrAppend(&line,
                    clipped && rotated
                        ? absl::StrCat(*clipped, " of ", *rotated, " rotated coordinates clipped")
                        : "clipping not measured (the gRPC transport's fleet clients do "
                          "not report it)");
  }
  if (inputs > 0 && model_length > 0) {
    absl::StrAppendFormat(&line, "; %.3f bytes per parameter per input sent",
                          static_cast<double>(bytes_up) / static_cast<double>(inputs) /
                              static_cast<double>(model_length));
  }
  return line;
}

// The DP line of the summary: mechanism, noise, accounting and, for the
// discrete Gaussian, the plan every laptop makes (bits, grid, rotated length).
std::string DescribeDp(const TaskConfig& task, double epsilon, int64_t model_length) {
  const DpConfig& dp = task.dp;
  if (dp.noise_multiplier <= 0) {
    return absl::StrFormat("update clip %.2f, no noise (no formal guarantee)", dp.clip_norm);
  }
  std::string line = absl::StrFormat(
      "%s, noise multiplier %.4g, clip %.3g, epsilon %.3f at delta %g (RDP, q %g per round: "
      "sampling %s)",
      DpMechanismName(dp.mechanism), dp.noise_multiplier, dp.clip_norm, epsilon, dp.delta,
      dp.AccountedSamplingRate(), DpSamplingName(dp.sampling));
  if (UsesDiscreteGaussian(task)) {
    absl::StatusOr<privacy::DdgPlan> plan =
        DdgPlanOfTask(task, task.cohort.min_survivors, model_length);
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

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Loads the population as the config says and tells what the loader did: the
// event limit in effect, who stopped at it, and skipped lines.
void PrintLoad(const PopulationSpec& spec, size_t people, const PopulationLoadReport& report) {
  std::fprintf(stderr,
               "tacit-sim: %zu people; event limit: %s (population.max_events_per_person = %d); "
               "%s; %s\n",
               people, DescribeEventLimit(report.event_limit).c_str(), spec.max_events_per_person,
               DescribeLimitReached(report).c_str(), DescribeSkippedLines(report).c_str());
}

absl::StatusOr<std::vector<PersonTokens>> LoadAndReport(const PopulationSpec& spec,
                                                        PopulationLoadReport& report) {
  std::fprintf(stderr, "tacit-sim: loading population (%s)...\n", spec.source.c_str());
  auto people = LoadPopulation(spec, &report);
  if (!people.ok()) return people.status();
  PrintLoad(spec, people->size(), report);
  return people;
}

// A run's population: a folder loaded, the generator's people generated when
// selected (population_source.h).
absl::StatusOr<std::unique_ptr<Population>> OpenAndReport(const PopulationSpec& spec,
                                                          PopulationLoadReport& report) {
  std::fprintf(stderr, "tacit-sim: %s population (%s)...\n",
               spec.source == "generator" ? "opening the generated" : "loading the",
               spec.source.c_str());
  auto people = OpenPopulation(spec, &report);
  if (!people.ok()) return people.status();
  PrintLoad(spec, (*people)->size(), report);
  return people;
}

// "the global model scored on a fixed sample of 200 of 10000 people (seeded)"
std::string DescribeEvaluation(const ExperimentConfig& config, size_t people) {
  if (config.eval_people <= 0 || static_cast<size_t>(config.eval_people) >= people) {
    return absl::StrCat("the global model scored on every person's test part (", people,
                        " people)");
  }
  return absl::StrCat("the global model scored on a fixed sample of ", config.eval_people, " of ",
                      people,
                      " people's test parts (simulation.eval_people; drawn once from the seed, "
                      "the same people at every evaluation)");
}

std::string DescribeLoad(const PopulationLoadReport& report) {
  return absl::StrCat(DescribeEventLimit(report.event_limit), " (", DescribeLimitReached(report),
                      "); ", DescribeSkippedLines(report));
}

}  // namespace

std::string DefaultOutputFolder(const std::string& name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return absl::StrCat("runs/", name, "-", stamp);
}

int InspectData(const ExperimentConfig& given) {
  ExperimentConfig config = given;
  config.population.seed = config.seed;
  PopulationLoadReport report;
  auto people = LoadAndReport(config.population, report);
  if (!people.ok()) {
    std::fprintf(stderr, "tacit-sim: cannot load the population: %s\n",
                 std::string(people.status().message()).c_str());
    return 1;
  }
  std::printf("%s", InspectPopulation(config, *people, report).c_str());
  const WeightingReport weighting = ResolveWeighting(config, *people);
  std::printf("weighting: %s\n", weighting.description.c_str());
  return 0;
}

int RunExperiment(ExperimentConfig config, const std::string& given_out,
                  const LaptopPlacement& placement) {
  const auto run_start = std::chrono::steady_clock::now();
  const std::string out = given_out.empty() ? DefaultOutputFolder(config.name) : given_out;
  if (config.transport == "grpc") {
    // One short-lived thread per seated client: glibc would give each its own
    // malloc arena and keep their freed memory (the demo's peak RSS doubles).
    // A few shared arenas are plenty for `workers` trainers at a time.
    mallopt(M_ARENA_MAX, 2 * ResolveWorkers(config.workers));
  }
  config.population.seed = config.seed;
  PopulationLoadReport load;
  auto opened = OpenAndReport(config.population, load);
  if (!opened.ok()) {
    std::fprintf(stderr, "tacit-sim: cannot load the population: %s\n",
                 std::string(opened.status().message()).c_str());
    return 1;
  }
  const Population& people = **opened;
  auto layout = LayoutOf(config.model);
  if (!layout.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(layout.status().message()).c_str());
    return 2;
  }
  // Before config.json is written: the resolved cap is part of the config.
  if (people.generated() && config.task.aggregation.weighting == Weighting::kExamples) {
    std::fprintf(stderr,
                 "tacit-sim: counting the examples of %zu generated people for the weighting...\n",
                 people.size());
  }
  const absl::StatusOr<WeightingReport> weighted = ResolveWeighting(config, people);
  if (!weighted.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(weighted.status().message()).c_str());
    return 1;
  }
  const WeightingReport& weighting = *weighted;
  std::fprintf(stderr, "tacit-sim: weighting %s\n", weighting.description.c_str());
  // Before the output folder: every rank must agree on the config and data.
  std::unique_ptr<SimulatedLaptops> placed;
  if (placement.make) {
    auto made = placement.make(config, people);
    if (!made.ok()) {
      std::fprintf(stderr, "tacit-sim: %s\n", std::string(made.status().message()).c_str());
      // Ranks that disagree on the config or data are a config problem; a
      // failed link between ranks is not.
      const absl::StatusCode code = made.status().code();
      return code == absl::StatusCode::kFailedPrecondition ||
                     code == absl::StatusCode::kInvalidArgument
                 ? 2
                 : 1;
    }
    placed = *std::move(made);
  }
  const std::string transport =
      config.transport == "grpc"
          ? "gRPC with mutual TLS on loopback"
          : (placement.make ? placement.description : std::string("in-process"));
  auto output = RunOutput::Create(out, ExperimentConfigToJson(config));
  if (!output.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(output.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "tacit-sim: %s; model %s with %lld parameters; %d rounds of %d clients; secure "
               "aggregation %s; transport %s\n",
               Describe(config.population, people.size()).c_str(), config.model.name.c_str(),
               static_cast<long long>(layout->total_size), config.task.rounds,
               config.task.SelectedPerRound(), config.secure_aggregation ? "on" : "OFF",
               transport.c_str());

  ProgressLine progress(config.task.rounds);
  SimulationHooks hooks;
  hooks.laptops = placed.get();
  hooks.output = output->get();
  hooks.progress = &progress;
  hooks.grpc_folder = out + "/grpc";
  auto result = RunSimulation(config, people, hooks);
  progress.Close();
  if (!result.ok()) {
    std::fprintf(stderr, "tacit-sim: simulation failed: %s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }

  // The BLAS the laptops trained with: this process's, or a shard rank's.
  const std::string blas = placed ? placed->TrainingBlas() : BlasDescription();
  RunSummary summary;
  if (config.personalization.enabled()) {
    std::fprintf(stderr, "tacit-sim: fine-tuning a personal model per person (%d steps)...\n",
                 config.personalization.steps);
    // Personal models need everyone's tokens at once (generated ones made now).
    const auto* loaded = dynamic_cast<const LoadedPopulation*>(&people);
    absl::StatusOr<std::vector<PersonTokens>> generated = std::vector<PersonTokens>();
    if (loaded == nullptr) generated = MaterializeAll(people);
    if (!generated.ok()) {
      std::fprintf(stderr, "tacit-sim: personalization failed: %s\n",
                   std::string(generated.status().message()).c_str());
      return 1;
    }
    auto personal =
        EvaluatePersonalModels(config, result->final_parameters, result->final_evaluation,
                               loaded != nullptr ? loaded->people() : *generated);
    if (!personal.ok()) {
      std::fprintf(stderr, "tacit-sim: personalization failed: %s\n",
                   std::string(personal.status().message()).c_str());
      return 1;
    }
    summary.personal = *std::move(personal);
    summary.personalization =
        absl::StrCat("The final global model fine-tuned for ", config.personalization.steps,
                     " steps of ", config.training.optimizer, " lr ", config.personalization.lr,
                     " (batch ", config.training.batch_size, ") on each person's own train part");
  }

  ModelFile model;
  model.model_version = result->model_version;
  model.config = config.model;
  model.layout_hash = layout->hash;
  model.parameters = result->final_parameters;
  const std::string model_file = "final_model.tacitmodel";
  if (auto saved = SaveModelFile(out + "/" + model_file, model); !saved.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(saved.message()).c_str());
    return 1;
  }

  int64_t bytes_up = 0, inputs = 0;
  std::optional<int64_t> clipped, rotated;  // over the rounds that measured them
  int committed = 0;
  double round_seconds = 0;
  for (const auto& r : result->rounds) {
    bytes_up += r.bytes_up;
    committed += r.outcome == "committed";
    round_seconds += r.wall_seconds;
    if (r.clipped_after_rotation) clipped = clipped.value_or(0) + *r.clipped_after_rotation;
    if (r.rotated_coordinates) rotated = rotated.value_or(0) + *r.rotated_coordinates;
    inputs += r.participants;
  }
  const std::string ring = SecureAggDescription(
      config.task, static_cast<int64_t>(layout->total_size), bytes_up, inputs, clipped, rotated);
  summary.title = config.name;
  summary.facts = {
      {"population", Describe(config.population, people.size())},
      {"events loaded", DescribeLoad(load)},
      {"split", absl::StrFormat("first %.0f%% of each person's tokens in time train, the rest test",
                                100 * config.population.train_fraction)},
      {"model", absl::StrCat(config.model.name, ", ", layout->total_size, " parameters, layout ",
                             layout->hash)},
      {"server optimizer", DescribeServerOptimizer(config.task.server_optimizer)},
      {"local training", DescribeLocalTraining(config.task.training)},
      {"clients per round", absl::StrCat(config.task.SelectedPerRound(),
                                         " selected for a cohort of ", config.task.cohort.size)},
      {"weighting", weighting.description},
      // Training speed depends on the BLAS kernels (OpenBLAS may fall back to
      // generic ones on some CPUs): every figure names them.
      {"BLAS", blas},
      {"secure aggregation", config.secure_aggregation
                                 ? absl::StrCat("on, ", ring)
                                 : absl::StrCat("off (plain sum, for comparison only); ", ring)},
      {"differential privacy",
       DescribeDp(config.task, result->epsilon, static_cast<int64_t>(layout->total_size))},
      {"transport", transport},
      {"seed", absl::StrCat(config.seed)}};
  if (config.eval_people > 0) {
    summary.facts.insert(summary.facts.begin() + 8,
                         {"evaluation", DescribeEvaluation(config, people.size())});
  }
  summary.reference_top1 = config.reference_top1;
  summary.reference_label = config.reference_label;
  summary.final_model_file = model_file;
  const double seconds = SecondsSince(run_start);
  summary.run_wall_seconds = seconds;
  if (auto finished = (*output)->Finish(summary); !finished.ok()) {
    std::fprintf(stderr, "tacit-sim: %s\n", std::string(finished.message()).c_str());
    return 1;
  }

  const RoundRecord* last = nullptr;
  for (const auto& r : result->rounds) {
    if (r.outcome == "committed" && r.evaluation) last = &r;
  }
  double eval_seconds = 0;
  for (const auto& r : result->rounds) eval_seconds += r.eval_seconds;
  // The headline time is the whole run's wall clock, as summary.md names it.
  std::printf("\n== %s: %d of %d rounds committed in %s ==\n", config.name.c_str(), committed,
              config.task.rounds, ProgressLine::FormatDuration(seconds).c_str());
  std::printf(
      "times: wall clock of the whole run %s (loading, setup, rounds, evaluation); sum of round "
      "times %s (training and secure aggregation); sum of evaluation times %s\n",
      ProgressLine::FormatDuration(seconds).c_str(),
      ProgressLine::FormatDuration(round_seconds).c_str(),
      ProgressLine::FormatDuration(eval_seconds).c_str());
  std::printf("seed %llu; secure aggregation %s; DP %s; weighting %s; BLAS %s\n",
              static_cast<unsigned long long>(config.seed),
              config.secure_aggregation ? "on" : "OFF",
              config.task.dp.noise_multiplier > 0
                  ? absl::StrFormat("%s z %.4g, epsilon %.3f at delta %g, q %g",
                                    DpMechanismName(config.task.dp.mechanism),
                                    config.task.dp.noise_multiplier, result->epsilon,
                                    config.task.dp.delta, config.task.dp.AccountedSamplingRate())
                        .c_str()
                  : "off",
              weighting.description.c_str(), blas.c_str());
  std::printf("events: %s\n", DescribeLoad(load).c_str());
  if (last != nullptr) {
    std::printf(
        "global model v%lld: next-event top-1 %.3f, top-3 %.3f (pooled over %zu people%s; "
        "macro top-1 %.3f)\n",
        static_cast<long long>(result->model_version), last->evaluation->top1_pooled,
        last->evaluation->top3_pooled,
        result->evaluation_sample.empty() ? people.size() : result->evaluation_sample.size(),
        result->evaluation_sample.empty()
            ? ""
            : absl::StrCat(", a fixed sample of ", people.size()).c_str(),
        last->evaluation->top1_macro);
  }
  if (!summary.personal.empty()) {
    double global = 0, personal = 0, bigram = 0;
    for (const PersonalRow& p : summary.personal) {
      global += p.global_top1, personal += p.personal_top1, bigram += p.bigram_top1;
    }
    const double n = static_cast<double>(summary.personal.size());
    std::printf(
        "personal models (%d steps): top-1 %.3f macro, global %.3f, each person's bigram "
        "baseline %.3f\n",
        config.personalization.steps, personal / n, global / n, bigram / n);
  }
  std::printf(
      "privacy: raw activity never left the simulated laptops; they sent only %s of %s "
      "updates in total\n",
      FormatByteSize(bytes_up).c_str(),
      config.secure_aggregation ? "masked" : "UNMASKED (secure aggregation off)");
  std::printf(
      "results: %s/summary.md (report), accuracy.svg and loss.svg (plots), rounds.csv, "
      "rounds.jsonl, %s\n",
      out.c_str(), model_file.c_str());
  return 0;
}

int RunReplicates(const ExperimentConfig& config, const std::vector<uint64_t>& seeds,
                  const std::string& given_out, const LaptopPlacement& placement) {
  const std::string out = given_out.empty() ? DefaultOutputFolder(config.name) : given_out;
  std::vector<RunCurve> runs;
  for (uint64_t seed : seeds) {
    ExperimentConfig replicate = config;
    replicate.seed = seed;
    replicate.seeds.clear();
    const std::string folder = absl::StrCat(out, "/seed-", seed);
    std::fprintf(stderr, "tacit-sim: replicate seed %llu into %s\n",
                 static_cast<unsigned long long>(seed), folder.c_str());
    if (int code = RunExperiment(replicate, folder, placement); code != 0) return code;
    auto run = LoadRunCurve(folder);
    if (!run.ok()) {
      std::fprintf(stderr, "tacit-sim: %s\n", std::string(run.status().message()).c_str());
      return 1;
    }
    runs.push_back(*std::move(run));
  }
  std::vector<RunGroup> groups = GroupReplicates(std::move(runs));
  const std::string title = absl::StrCat(config.name, ": ", seeds.size(), " seeds");
  std::string md = absl::StrCat("# ", title, "\n\n", RenderComparisonTable(groups),
                                "\n![accuracy](accuracy.svg)\n\nEach seed's own report: ");
  for (uint64_t seed : seeds)
    absl::StrAppend(&md, "[seed ", seed, "](seed-", seed, "/summary.md) ");
  md += "\n";
  for (auto status :
       {WriteFileAtomically(out + "/summary.md", md),
        WriteFileAtomically(out + "/accuracy.svg", RenderComparisonSvg(groups, title))}) {
    if (!status.ok()) {
      std::fprintf(stderr, "tacit-sim: %s\n", std::string(status.message()).c_str());
      return 1;
    }
  }
  std::printf("\n== %s ==\n%s\nresults: %s/summary.md, accuracy.svg\n", title.c_str(),
              RenderComparisonTable(groups).c_str(), out.c_str());
  return 0;
}

}  // namespace tacit::sim
