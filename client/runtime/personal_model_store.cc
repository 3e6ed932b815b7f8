#include "client/runtime/personal_model_store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/cli_context.h"
#include "client/federated/personal_model.h"
#include "client/runtime/training_data.h"
#include "client/store/erase_store.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "models/evaluation.h"
#include "models/parameter_layout.h"
#include "task/task_model.h"

namespace tacit::runtime {
namespace {

std::string PathOf(const std::string& dir, const char* file) {
  return absl::StrCat(dir, "/", file);
}

}  // namespace

nlohmann::json PersonalModelInfoToJson(const PersonalModelInfo& info) {
  return {{"task", info.task},
          {"base_version", info.base_version},
          {"steps", info.steps},
          {"lr", info.lr},
          {"train_tokens", info.train_tokens},
          {"test_predictions", info.test_predictions},
          {"global_top1", info.global_top1},
          {"personal_top1", info.personal_top1},
          {"created", info.created},
          {"seconds", info.seconds}};
}

absl::StatusOr<std::optional<PersonalModelInfo>> ReadPersonalModelInfo(const std::string& dir) {
  const std::string path = PathOf(dir, kPersonalModelInfoFile);
  if (!std::filesystem::exists(path)) return std::optional<PersonalModelInfo>();
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<nlohmann::json> json = ParseJson(text, path);
  PersonalModelInfo info;
  try {
    if (!json.ok() || !json->is_object()) throw std::runtime_error("not a JSON object");
    info.task = json->at("task").get<std::string>();
    info.base_version = json->at("base_version").get<int64_t>();
    info.steps = json->at("steps").get<int>();
    info.lr = json->at("lr").get<double>();
    info.train_tokens = json->at("train_tokens").get<int64_t>();
    info.test_predictions = json->at("test_predictions").get<int64_t>();
    info.global_top1 = json->at("global_top1").get<double>();
    info.personal_top1 = json->at("personal_top1").get<double>();
    info.created = json->at("created").get<std::string>();
    info.seconds = json->at("seconds").get<double>();
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat(path, " is damaged (", json.ok() ? e.what() : json.status().message(),
                     "); `tacit-client erase --all` removes it with the events, or the next round "
                     "rewrites it"));
  }
  return std::optional<PersonalModelInfo>(std::move(info));
}

absl::StatusOr<ModelFile> LoadPersonalModel(const std::string& dir,
                                            const std::string& expected_layout_hash) {
  return LoadModelFile(PathOf(dir, kPersonalModelFile), expected_layout_hash);
}

absl::StatusOr<PersonalModelRefresh> RefreshPersonalModel(
    const std::string& dir, const std::string& device_id, const TaskConfig& task,
    const ParticipationPolicy& policy, int64_t global_version, int threads, double max_seconds) {
  PersonalModelRefresh out;
  if (!task.personalization.enabled()) {
    out.reason = "the task asks for no personal model";
    return out;
  }
  if (!policy.personal_model) {
    out.reason = "personal models are off (participation_policy.json: personal_model false)";
    return out;
  }
  // Checked before the 6 MB global model is read and hashed: most rounds of
  // a task leave the personal model of the last one up to date.
  TACIT_ASSIGN_OR_RETURN(std::optional<PersonalModelInfo> held, ReadPersonalModelInfo(dir));
  if (held && held->task == task.name && held->base_version == global_version &&
      held->steps == task.personalization.steps && held->lr == task.personalization.lr &&
      std::filesystem::exists(PathOf(dir, kPersonalModelFile))) {
    out.reason =
        absl::StrCat("the personal model is up to date (from global version ", global_version, ")");
    out.info = held;
    return out;
  }
  TACIT_ASSIGN_OR_RETURN(ModelFile global, LoadModelFile(PathOf(dir, "model/global.model")));
  if (global.model_version != global_version) {
    out.reason = absl::StrCat("the held global model is version ", global.model_version,
                              ", not the round's ", global_version, " (not downloaded)");
    return out;
  }
  TACIT_ASSIGN_OR_RETURN(ModelConfig config, ResolveTaskModel(task));
  TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(config));
  if (layout.hash != global.layout_hash) {
    out.reason = "the held global model is not this task's (a newer one comes with the next round)";
    return out;
  }
  TACIT_ASSIGN_OR_RETURN(PersonTokens tokens, LoadTrainingTokens(dir, device_id, task));
  if (tokens.train.size() < 2) {
    out.reason = NoTrainingWindowReason(tokens);
    return out;
  }
  const auto started = std::chrono::steady_clock::now();
  TrainOptions training = TrainOptionsOfTask(task);
  training.threads = std::max(1, threads);
  training.seed = static_cast<uint64_t>(global.model_version);  // shuffling only
  PersonalizationOptions personal;
  personal.steps = task.personalization.steps;
  personal.lr = task.personalization.lr;
  personal.max_seconds = max_seconds > 0 ? std::min(max_seconds, task.training.max_seconds)
                                         : task.training.max_seconds;
  TACIT_ASSIGN_OR_RETURN(
      std::vector<float> parameters,
      FineTunePersonalModel(config, global.parameters, tokens.train, training, personal));
  TACIT_ASSIGN_OR_RETURN(EvalResult global_score, Evaluate(config, global.parameters, tokens));
  TACIT_ASSIGN_OR_RETURN(EvalResult personal_score, Evaluate(config, parameters, tokens));

  ModelFile model = global;
  model.parameters = std::move(parameters);
  PersonalModelInfo info;
  info.task = task.name;
  info.base_version = global.model_version;
  info.steps = personal.steps;
  info.lr = personal.lr;
  info.train_tokens = static_cast<int64_t>(tokens.train.size());
  info.test_predictions = global_score.predictions;
  info.global_top1 = global_score.top1;
  info.personal_top1 = personal_score.top1;
  info.created = cli::FormatTime(cli::NowMs());
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // The model first: info without its model is never left behind.
  TACIT_RETURN_IF_ERROR(SaveModelFile(PathOf(dir, kPersonalModelFile), model));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(PathOf(dir, kPersonalModelInfoFile),
                                            PersonalModelInfoToJson(info).dump(2), 0600));
  out.refreshed = true;
  out.reason = absl::StrFormat(
      "personal model fine-tuned from global version %d (%d steps on %d tokens, %.1f s): top-1 "
      "on this laptop's held-out activity %.3f (global %.3f)",
      info.base_version, info.steps, info.train_tokens, info.seconds, info.personal_top1,
      info.global_top1);
  out.info = std::move(info);
  return out;
}

}  // namespace tacit::runtime
