// tacit-central: trains the model on all persons' train parts pooled and
// reports pooled and macro top-1/top-3 on their test parts, after every epoch
// (console and, with --out, epochs.jsonl for `tacit-sim compare`).
//
//   build/bin/tacit-central --data ../shared/data/sea-commands --events 5000 --epochs 5
//
// Defaults are tacit-sim's shipped SEA configs': vocabulary salt "sea", every
// event unless --events says otherwise, an 80/20 split in time.
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_format.h"
#include "client/examples/population.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "models/blas_kernels.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "simulations/central/central_reference.h"

namespace {

// One line of epochs.jsonl: the measured figures of one epoch.
nlohmann::json EpochJson(const tacit::CentralEpoch& e, double seconds) {
  return {{"epoch", e.epoch},
          {"steps", e.steps},
          {"train_loss", e.train_loss},
          {"top1_pooled", e.evaluation.pooled.top1},
          {"top3_pooled", e.evaluation.pooled.top3},
          {"top1_macro", e.evaluation.macro.top1},
          {"top3_macro", e.evaluation.macro.top3},
          {"test_loss", e.evaluation.pooled.loss},
          {"seconds", seconds}};
}

void PrintRow(const char* name, const tacit::EvalResult& r) {
  std::printf("%-22s %8.4f %8.4f %8.4f %10lld\n", name, r.top1, r.top3, r.loss,
              static_cast<long long>(r.predictions));
}

}  // namespace

int main(int argc, char** argv) {
  tacit::UseBestBlasKernels(argv);  // before any thread: it may restart the program
  CLI::App app{"tacit-central: the centrally trained reference model (research tool)"};
  tacit::PopulationSpec spec;
  spec.source = "sea-commands";
  spec.vocab_salt = "sea";  // the shipped SEA configs' task.vocab.salt
  tacit::CentralOptions options;
  options.model = tacit::DefaultGruConfig();
  options.train.epochs = 5;
  options.train.threads = 1;
  // The best measured SEA run (docs/model.md): overlapping windows, batch 32.
  options.train.stride = 32;
  options.train.batch_size = 32;
  std::string model_json, save_path, report_path, out, name = "central", on_error = "stop";
  app.add_option("--source", spec.source,
                 "sea-commands | aalto-keystrokes | balabit-mouse | generator | jsonl");
  app.add_option("--data", spec.path, "folder of per-person logs (not for the generator)");
  app.add_option("--people", spec.people, "first N persons (0 = all; generator: how many)");
  app.add_option("--events", spec.max_events_per_person,
                 "events per person (0 = every event; SEA's published setup: 5000)");
  app.add_option("--on-error", on_error,
                 "a malformed line: stop (naming it) or skip (and count it)")
      ->check(CLI::IsMember({"stop", "skip"}));
  app.add_option("--train-fraction", spec.train_fraction, "first part in time that trains");
  app.add_option("--vocab-salt", spec.vocab_salt,
                 "hashed vocabulary salt (default \"sea\", as the shipped SEA configs)");
  app.add_option("--model", options.model.name, "gru | transformer");
  app.add_option("--model-json", model_json,
                 "model config as JSON (overrides --model), e.g. '{\"name\":\"gru\"}'");
  app.add_option("--epochs", options.train.epochs);
  app.add_option("--batch-size", options.train.batch_size);
  app.add_option("--lr", options.train.lr);
  app.add_option("--optimizer", options.train.optimizer, "adam | sgd");
  app.add_option("--stride", options.train.stride, "training window stride (0 = window)");
  app.add_option("--threads", options.train.threads, "intra-op threads");
  app.add_option("--seed", options.train.seed, "shuffling seed");
  app.add_option("--init-seed", options.init_seed, "initial parameters seed");
  app.add_option("--personalize-steps", options.personalize_steps,
                 "also fine-tune per person for N steps and evaluate (0 = skip)");
  app.add_option("--save", save_path, "write the trained model file here");
  app.add_option("--report", report_path, "write the figures as JSON here");
  app.add_option("--out", out,
                 "run folder: config.json and epochs.jsonl (one line per epoch), for "
                 "`tacit-sim compare`");
  app.add_option("--name", name, "the run's name in --out's config.json (compare's legend)");
  CLI11_PARSE(app, argc, argv);
  spec.on_error = on_error == "skip" ? tacit::OnBadLine::kSkip : tacit::OnBadLine::kStop;

  if (options.model.name == "transformer") options.model = tacit::DefaultTransformerConfig();
  if (!model_json.empty()) {
    auto parsed = tacit::ParseJson(model_json, "--model-json");
    auto config = parsed.ok() ? tacit::ModelConfig::FromJson(*parsed) : parsed.status();
    if (!config.ok()) {
      std::fprintf(stderr, "--model-json: %s\n", std::string(config.status().message()).c_str());
      return 2;
    }
    options.model = *config;
  }
  spec.vocab_size = options.model.vocab_size;
  tacit::PopulationLoadReport load;
  auto persons = tacit::LoadPopulation(spec, &load);
  if (!persons.ok()) {
    std::fprintf(stderr, "loading the population: %s\n",
                 std::string(persons.status().message()).c_str());
    return 1;
  }
  auto layout = tacit::LayoutOf(options.model);
  if (!layout.ok()) {
    std::fprintf(stderr, "%s\n", std::string(layout.status().message()).c_str());
    return 2;
  }
  tacit::SetBlasThreads(options.train.threads);
  std::printf("model %s, %lld parameters, layout %s\nBLAS: %s\n",
              options.model.ToJson().dump().c_str(), static_cast<long long>(layout->total_size),
              layout->hash.c_str(), tacit::BlasDescription().c_str());
  std::printf("%zu persons from %s; events: %s (%s); %s\n", persons->size(), spec.source.c_str(),
              tacit::DescribeEventLimit(load.event_limit).c_str(),
              tacit::DescribeLimitReached(load).c_str(), tacit::DescribeSkippedLines(load).c_str());
  std::printf("split: first %.0f%% of each person's tokens train; vocabulary %u, salt \"%s\"\n",
              100 * spec.train_fraction, spec.vocab_size, spec.vocab_salt.c_str());
  std::fflush(stdout);

  std::FILE* epochs_file = nullptr;
  if (!out.empty()) {
    struct stat st {};
    if (::stat((out + "/epochs.jsonl").c_str(), &st) == 0) {
      std::fprintf(stderr, "--out %s already holds a run; choose another folder\n", out.c_str());
      return 1;
    }
    nlohmann::json config = {{"tool", "tacit-central"},
                             {"name", name},
                             {"seed", options.train.seed},
                             {"population",
                              {{"source", spec.source},
                               {"path", spec.path},
                               {"people", spec.people},
                               {"max_events_per_person", spec.max_events_per_person},
                               {"train_fraction", spec.train_fraction},
                               {"on_error", on_error}}},
                             {"vocab", {{"size", spec.vocab_size}, {"salt", spec.vocab_salt}}},
                             {"model", options.model.ToJson()},
                             {"training",
                              {{"epochs", options.train.epochs},
                               {"batch_size", options.train.batch_size},
                               {"lr", options.train.lr},
                               {"optimizer", options.train.optimizer},
                               {"stride", options.train.stride},
                               {"init_seed", options.init_seed}}}};
    if (auto made = tacit::MakeDirectories(out);
        !made.ok() ||
        !tacit::WriteFileAtomically(out + "/config.json", config.dump(2) + "\n").ok()) {
      std::fprintf(stderr, "cannot write %s/config.json\n", out.c_str());
      return 1;
    }
    epochs_file = std::fopen((out + "/epochs.jsonl").c_str(), "w");
    if (epochs_file == nullptr) {
      std::fprintf(stderr, "cannot create %s/epochs.jsonl\n", out.c_str());
      return 1;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  std::printf("%6s %8s %10s %8s %8s %8s %9s\n", "epoch", "steps", "train loss", "top-1", "top-3",
              "loss", "seconds");
  options.on_epoch = [&](const tacit::CentralEpoch& e) -> absl::Status {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%6d %8d %10.4f %8.4f %8.4f %8.4f %9.1f\n", e.epoch, e.steps, e.train_loss,
                e.evaluation.pooled.top1, e.evaluation.pooled.top3, e.evaluation.pooled.loss,
                seconds);
    std::fflush(stdout);
    if (epochs_file != nullptr) {
      const std::string line = EpochJson(e, seconds).dump() + "\n";
      if (std::fputs(line.c_str(), epochs_file) < 0 || std::fflush(epochs_file) != 0) {
        return absl::DataLossError("writing epochs.jsonl failed (is the disk full?)");
      }
    }
    return absl::OkStatus();
  };

  auto result = tacit::TrainCentrally(*persons, options);
  if (epochs_file != nullptr) std::fclose(epochs_file);
  if (!result.ok()) {
    std::fprintf(stderr, "central training: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("trained %d steps in %.1f s (last-epoch loss %.4f), evaluated in %.1f s\n",
              result->training.steps, result->training.seconds, result->training.train_loss,
              result->eval_seconds);
  std::printf("%-22s %8s %8s %8s %10s\n", "", "top-1", "top-3", "loss", "predictions");
  PrintRow("central pooled", result->evaluation.pooled);
  PrintRow("central macro", result->evaluation.macro);
  if (options.personalize_steps > 0) {
    PrintRow("personalized pooled", result->personalized.pooled);
    PrintRow("personalized macro", result->personalized.macro);
  }
  if (!save_path.empty()) {
    tacit::ModelFile file;
    file.config = options.model;
    file.parameters = result->parameters;
    if (auto s = tacit::SaveModelFile(save_path, file); !s.ok()) {
      std::fprintf(stderr, "saving: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  if (!report_path.empty()) {
    auto row = [](const tacit::EvalResult& r) {
      return nlohmann::json{
          {"top1", r.top1}, {"top3", r.top3}, {"loss", r.loss}, {"predictions", r.predictions}};
    };
    nlohmann::json report = {
        {"model", options.model.ToJson()},           {"persons", persons->size()},
        {"train_seconds", result->training.seconds}, {"steps", result->training.steps},
        {"pooled", row(result->evaluation.pooled)},  {"macro", row(result->evaluation.macro)}};
    std::ofstream(report_path) << report.dump(2) << "\n";
  }
  return 0;
}
