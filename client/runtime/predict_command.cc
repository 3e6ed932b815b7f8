// tacit-client predict: the events this laptop's model expects next after
// the owner's latest activity, computed here from the local store with the
// personal model (personal_model_store.h) when there is one, else the
// global model. Nothing is sent: no call is made, so the audit log has
// nothing to count.

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/runtime/fleet_commands.h"
#include "client/runtime/model_cache.h"
#include "client/runtime/personal_model_store.h"
#include "client/store/event_store.h"
#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "models/prediction.h"
#include "nlohmann/json.hpp"
#include "task/task_model.h"

namespace tacit::cli {
namespace {

struct ChosenModel {
  ModelFile file;
  bool personal = false;
  std::string why;  // when the global model is used although personal was possible
};

ChosenModel ChooseModel(const std::string& dir, const TaskConfig& task,
                        const std::string& layout_hash, bool global_only) {
  ChosenModel chosen;
  if (!global_only) {
    absl::StatusOr<std::optional<runtime::PersonalModelInfo>> info =
        runtime::ReadPersonalModelInfo(dir);
    if (!info.ok()) {
      chosen.why = std::string(info.status().message());
    } else if (!*info) {
      chosen.why = task.personalization.enabled()
                       ? "no personal model yet (one is fine-tuned after the next round)"
                       : "the task asks for no personal model";
    } else if ((*info)->task != task.name) {
      chosen.why = absl::StrCat("the personal model is of task '", (*info)->task, "'");
    } else if (absl::StatusOr<ModelFile> personal = runtime::LoadPersonalModel(dir, layout_hash);
               personal.ok()) {
      chosen.file = *std::move(personal);
      chosen.personal = true;
      return chosen;
    } else {
      chosen.why = std::string(personal.status().message());
    }
  }
  absl::StatusOr<ModelFile> global = LoadModelFile(dir + "/model/global.model", layout_hash);
  FailIfError(global.status());
  chosen.file = *std::move(global);
  return chosen;
}

}  // namespace

void AddPredictCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  struct Args {
    int top = 5;
    bool global = false;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "predict",
      "Show the events this laptop's model expects next after your latest activity (computed "
      "here; nothing is sent)");
  cmd->add_option("--top", args->top, "How many predictions")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  cmd->add_flag("--global", args->global, "Use the global model even when a personal one exists");
  cmd->add_flag("--json", args->json, "The predictions as JSON");
  cmd->callback([args, context] {
    const std::string& dir = context->dir;
    std::optional<TaskConfig> task = runtime::LastAssignedTask(dir);
    if (!task) {
      Fail(absl::FailedPreconditionError(
          "no model on this laptop yet: the task and the global model come with the first round "
          "(tacit-client run)"));
    }
    absl::StatusOr<ModelConfig> config = ResolveTaskModel(*task);
    FailIfError(config.status());
    absl::StatusOr<ParameterLayout> layout = LayoutOf(*config);
    FailIfError(layout.status());
    const ChosenModel model = ChooseModel(dir, *task, layout->hash, args->global);

    // The owner's own events, tokenized as training does; each token's
    // feature is remembered from them, to name what the model predicts.
    absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::OpenInDirectory(dir);
    FailIfError(store.status());
    absl::StatusOr<HashedVocabulary> vocabulary =
        HashedVocabulary::Create(static_cast<uint32_t>(task->vocab.size), task->vocab.salt);
    FailIfError(vocabulary.status());
    EventTokenizer tokenizer(*std::move(vocabulary));
    std::vector<int32_t> stream;
    std::map<int32_t, std::string> feature_of;
    FailIfError((*store)->ForEach(TimeRange{}, {}, [&](const Event& event) {
      if (tokenizer.Add(event, &stream)) feature_of[stream.back()] = EventFeature(event);
      return absl::OkStatus();
    }));
    if (stream.empty()) {
      Fail(absl::FailedPreconditionError(
          "no activity stored: predictions follow your latest events (tacit-client import, "
          "collect or generate-activity)"));
    }
    absl::StatusOr<std::vector<TokenProbability>> next =
        PredictNext(model.file.config, model.file.parameters, stream, args->top);
    FailIfError(next.status());

    const std::string which =
        model.personal ? absl::StrCat("personal model (fine-tuned here from global version ",
                                      model.file.model_version, ")")
                       : absl::StrCat("global model version ", model.file.model_version);
    auto name = [&](int32_t token) {
      auto it = feature_of.find(token);
      return it != feature_of.end() ? it->second : std::string("(not in your stored activity)");
    };
    if (args->json) {
      nlohmann::json out = {{"model", model.personal ? "personal" : "global"},
                            {"model_version", model.file.model_version},
                            {"context_tokens", std::min<size_t>(stream.size(), config->window)},
                            {"predictions", nlohmann::json::array()}};
      if (!model.personal && !model.why.empty()) out["why_not_personal"] = model.why;
      for (const TokenProbability& p : *next) {
        out["predictions"].push_back(
            {{"token", p.token}, {"feature", name(p.token)}, {"probability", p.probability}});
      }
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::cout << "Next event after your latest " << std::min<size_t>(stream.size(), config->window)
              << " events, by the " << which << ":\n";
    for (size_t i = 0; i < next->size(); ++i) {
      std::cout << absl::StrFormat("  %zu. %-32s %5.1f%%\n", i + 1, name((*next)[i].token),
                                   100.0 * (*next)[i].probability);
    }
    if (!model.personal && !args->global && !model.why.empty()) {
      std::cout << "(global model: " << model.why << ")\n";
    }
    std::cout << "Computed on this laptop from its own store; nothing was sent.\n";
  });
}

}  // namespace tacit::cli
