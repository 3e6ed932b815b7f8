#pragma once

// What the coordinator reports about itself, typed, and its JSON rendering
// for /status and `tacit-coordinator status` (coordinator/status_text.h reads
// that JSON; its keys are kept stable for tools).

#include <cstdint>
#include <optional>
#include <string>

#include "coordinator/service/round_summary.h"
#include "nlohmann/json.hpp"
#include "task/task_config.h"

namespace tacit::coordinator {

// The attempt being run.
struct OpenRoundStatus {
  int64_t round = 0;
  int64_t round_id = 0;
  int attempt = 1;
  std::string phase;  // "selecting" or a secure aggregation phase name
  int participants = 0;
  int dropped = 0;
};

struct CoordinatorStatus {
  std::string task;
  int64_t rounds = 0;  // the task's round count
  int64_t model_version = 0;
  double epsilon = 0;
  // How that epsilon was accounted: the task's dp section.
  DpConfig dp;
  std::string server_optimizer;
  double server_lr = 0;  // decays with lr_half_life_rounds
  bool done = false;
  std::optional<OpenRoundStatus> open_round;  // none between attempts or when done
  std::optional<RoundSummary> last_round;     // since this coordinator started
  std::optional<EvaluationReport> last_evaluation;
};

// Keys: task, rounds, model_version, epsilon, accounting (PrivacyAccountingJson),
// server_optimizer, server_lr,
// done, phase ("selecting", a phase name, "idle" or "done"), with an open
// round also round, round_id, attempt, participants, dropped; last_round ({}
// before any) and last_evaluation (null before any).
nlohmann::json StatusJson(const CoordinatorStatus& status);

// Which accounting the reported epsilon uses: {"accountant": "rdp",
// "sampling": "none" | "random_check_in", "q": the rate composed per round,
// "noise_multiplier", "delta", "why": one sentence}. "none" accounts q = 1:
// the coordinator seats whoever checks in first, no random sample.
nlohmann::json PrivacyAccountingJson(const DpConfig& dp);

}  // namespace tacit::coordinator
