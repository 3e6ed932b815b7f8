// tacit-central: trains the model on all persons' train parts pooled and
// reports pooled and macro top-1/top-3 on their test parts.
//
//   build/bin/tacit-central --data ../shared/data/sea-commands --epochs 5
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_format.h"
#include "client/examples/population.h"
#include "common/json_parse.h"
#include "models/blas_kernels.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "simulations/central/central_reference.h"

namespace {

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
  tacit::CentralOptions options;
  options.model = tacit::DefaultGruConfig();
  options.train.epochs = 5;
  options.train.threads = 1;
  // The best measured SEA run (docs/model.md): overlapping windows, batch 32.
  options.train.stride = 32;
  options.train.batch_size = 32;
  std::string model_json, save_path, report_path;
  app.add_option("--source", spec.source,
                 "sea-commands | aalto-keystrokes | balabit-mouse | generator | jsonl");
  app.add_option("--data", spec.path, "folder of per-person logs (not for the generator)");
  app.add_option("--people", spec.people, "first N persons (0 = all; generator: how many)");
  app.add_option("--events", spec.max_events_per_person,
                 "events per person (0 = the source's default; SEA: first 5,000)");
  app.add_option("--train-fraction", spec.train_fraction, "first part in time that trains");
  app.add_option("--vocab-salt", spec.vocab_salt, "hashed vocabulary salt");
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
  CLI11_PARSE(app, argc, argv);

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
  auto persons = tacit::LoadPopulation(spec);
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
  std::printf("%zu persons from %s\n", persons->size(), spec.source.c_str());
  std::fflush(stdout);

  auto result = tacit::TrainCentrally(*persons, options);
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
