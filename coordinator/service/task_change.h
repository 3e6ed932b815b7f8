#pragma once

// Whether a task stored in the state may continue under the config the
// operator starts the coordinator with. The same task (also when written by
// an older coordinator, before sections with defaults existed) continues;
// raising `rounds` extends it, also once it has finished, from its last
// committed round. Any other change would make the committed rounds and
// their privacy accounting mean something else: refused, naming each key.

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace tacit::coordinator {

// OK when `wanted` may replace `stored` for a running task: both normalized
// (parsed, defaults filled in), no key changed but `rounds`, and `rounds`
// not lowered. Otherwise FailedPrecondition naming each changed key as a
// dotted path (e.g. "dp.noise_multiplier") and what to do.
absl::Status CheckTaskChange(const nlohmann::json& stored, const nlohmann::json& wanted);

}  // namespace tacit::coordinator
