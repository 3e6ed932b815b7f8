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

// <dir>/control.json; a missing file means nothing is paused.
absl::StatusOr<ControlState> LoadControlState(const std::string& dir);
absl::Status SaveControlState(const std::string& dir, const ControlState& state);

// The client's folder: $TACIT_CLIENT_DIR, else $XDG_DATA_HOME/tacit, else
// $HOME/.local/share/tacit.
std::string DefaultClientDirectory();

}  // namespace tacit
