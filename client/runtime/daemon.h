#pragma once

// `tacit-client run`: the fleet client's loop. It checks in only when the
// owner has not paused training, the laptop is eligible under the task's
// requirements, it has training data (training_data.h) and the owner's daily cap
// (participation_policy.h) is not reached, all decided here and never sent, and then only after a
// random delay (check_in_jitter.h). It runs assigned rounds (round_runner.h), writes an audit line
// per round and per burst of check-ins (audit_log.h), and sleeps as the coordinator says
// (retry-after) or, after failures, with exponential backoff and jitter. A lost connection ends the
// client's part of the round; it rejoins a later one. Progress goes to <dir>/daemon.json for
// `tacit-client status`. SIGINT/SIGTERM stop it between steps.

#include <string>

#include "absl/status/status.h"
#include "client/control_state.h"
#include "client/runtime/backoff.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/round_runner.h"

namespace tacit::runtime {

struct DaemonOptions {
  std::string dir;
  ReadingOverrides overrides;
  double idle_check_seconds = 60;  // between checks while paused or ineligible
  // Each check-in waits a uniform random [0, this) first (check_in_jitter.h).
  double check_in_jitter_seconds = 120;
  double max_backoff_seconds = 300;
  double max_retry_seconds = 600;  // a coordinator's retry-after is capped here
  bool exit_when_task_complete = false;
  RoundRunnerOptions runner;  // dir and device_id are filled in
};

using ::tacit::kDaemonStatusFile;  // client/control_state.h

absl::Status RunDaemon(DaemonOptions options);

}  // namespace tacit::runtime
