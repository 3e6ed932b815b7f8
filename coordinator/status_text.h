#pragma once

// What `tacit-coordinator status` prints: the /status JSON (see
// RoundOrchestrator::StatusJson) as lines for an operator.

#include <string>

#include "nlohmann/json.hpp"

namespace tacit::coordinator {

// Task, model version, round and phase, participants, epsilon, the last
// round's metrics and the last accuracy: the cohort's federated evaluation
// (sums only), or "none yet" before a round with held-out predictions.
std::string FormatStatusText(const nlohmann::json& status);

}  // namespace tacit::coordinator
