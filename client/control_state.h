#pragma once

// The owner's switches, kept beside the store: pause/resume collection and
// training. The client daemon reads them before recording or training.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tacit {

struct ControlState {
  bool collection_paused = false;
  bool training_paused = false;
  int64_t changed_ms = 0;  // when the owner last changed a switch
};

inline constexpr const char* kControlStateFile = "control.json";
inline constexpr const char* kPrivacyPolicyFile = "privacy_policy.json";
// Written by the fleet daemon (`tacit-client run`, client/runtime/daemon.h).
inline constexpr const char* kDaemonStatusFile = "daemon.json";

// <dir>/control.json; a missing file means nothing is paused.
absl::StatusOr<ControlState> LoadControlState(const std::string& dir);
absl::Status SaveControlState(const std::string& dir, const ControlState& state);

// The round the fleet daemon in `dir` is taking part in right now, as its
// status file says ("round 3: sent share_keys, waiting for masked_input");
// empty when it is in none or is not running (its pid is gone).
std::string RoundInProgress(const std::string& dir);

// The tacit programs that are running on the folder `dir`, as their status
// files say and their pids confirm: "tacit-client run (pid 812)",
// "tacit-collector (pid 640)". Empty when none is.
std::string RunningClientPrograms(const std::string& dir);

// The client's folder: $TACIT_CLIENT_DIR, else $XDG_DATA_HOME/tacit, else
// $HOME/.local/share/tacit.
std::string DefaultClientDirectory();

}  // namespace tacit
