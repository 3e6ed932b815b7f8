#pragma once

// `tacit-coordinator status --state DIR` without a running coordinator: the
// task, model version, epsilon and last round read from the state folder
// alone (StateStore::OpenForReading: no lock, nothing written), as the same
// JSON keys /status uses (status_view.h), so one text formatter serves both.
// Epsilon is recomposed exactly as the coordinator composes it
// (global_model.h's ProjectedEpsilon over the committed rounds).

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit::coordinator {

// StatusJson's keys, plus "source": "state folder", "tasks" (how many the
// folder holds; the newest is shown) and, for a round recorded in flight,
// round/attempt/phase "in_flight". NotFound for a folder without state;
// FailedPrecondition for a folder without a task yet or a schema mismatch.
absl::StatusOr<nlohmann::json> OfflineStatusJson(const std::string& state_dir);

}  // namespace tacit::coordinator
