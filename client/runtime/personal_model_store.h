#pragma once

// The laptop's personal model (task.personalization): after a round, the
// global model this laptop downloaded, fine-tuned for a few steps on its own
// stored activity, kept beside the global model for on-device prediction
// (`tacit-client predict`). It never leaves the laptop: no call sends it,
// and the audit log (which counts every call) has nothing to add. It is
// erased with the events it was trained on (client/store/erase_store.h) and
// by `leave` (with model/).
//
//   <dir>/model/personal.model  models/model_file.h, model_version = the
//                               global version it was fine-tuned from
//   <dir>/model/personal.json   PersonalModelInfo

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/runtime/participation_policy.h"
#include "models/model_file.h"
#include "nlohmann/json.hpp"
#include "task/task_config.h"

namespace tacit::runtime {

struct PersonalModelInfo {
  std::string task;
  int64_t base_version = 0;  // the global model version it was fine-tuned from
  int steps = 0;
  double lr = 0;
  int64_t train_tokens = 0;
  // Scored on this laptop's own held-out (newest) tokens, never sent.
  int64_t test_predictions = 0;
  double global_top1 = 0;
  double personal_top1 = 0;
  std::string created;  // FormatTime, UTC
  double seconds = 0;   // fine-tuning and scoring
};

nlohmann::json PersonalModelInfoToJson(const PersonalModelInfo& info);
// nullopt when there is no personal model; DataLoss naming the file when
// personal.json is unreadable (erase the personal model: `tacit-client erase`).
absl::StatusOr<std::optional<PersonalModelInfo>> ReadPersonalModelInfo(const std::string& dir);
// The personal model file, checked against `expected_layout_hash` (a personal
// model of another task's architecture is not used).
absl::StatusOr<ModelFile> LoadPersonalModel(const std::string& dir,
                                            const std::string& expected_layout_hash);

struct PersonalModelRefresh {
  bool refreshed = false;
  std::string reason;  // why not, or what was done, for the daemon's log
  std::optional<PersonalModelInfo> info;
};

// After a round: fine-tunes the held global model (<dir>/model/global.model)
// of `global_version` (the round's) on the store's training tokens when the
// task asks for a personal model, the owner's policy allows it
// (personal_model), the held global model is that version, and the held
// personal model is not already from it with these settings. `threads`
// and `max_seconds` (0: the task's training.max_seconds, else the smaller):
// the owner's CPU and time budget for training, which bound this too. Errors: an unreadable global
// model or store; a task without personalization, a refusing policy or too little data are not
// errors (refreshed false, reason says which).
absl::StatusOr<PersonalModelRefresh> RefreshPersonalModel(
    const std::string& dir, const std::string& device_id, const TaskConfig& task,
    const ParticipationPolicy& policy, int64_t global_version, int threads, double max_seconds);

}  // namespace tacit::runtime
