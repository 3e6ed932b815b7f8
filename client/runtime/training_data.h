#pragma once

// Whether this laptop has anything to train on, asked before it checks in:
// a laptop without a training window (new, or after `erase --all`) would
// take a seat, decline after selection and keep the rest of the cohort
// waiting for the phase deadline every round. The window rule is the
// trainer's (models/training.cc): a training stream of at least 2 tokens.

#include <string>

#include "absl/status/statusor.h"
#include "common/token_stream.h"
#include "task/task_config.h"

namespace tacit::runtime {

// The owner's stored events as the task's training tokens (time-ordered,
// split in time: the newest part is held out).
absl::StatusOr<PersonTokens> LoadTrainingTokens(const std::string& dir,
                                                const std::string& device_id,
                                                const TaskConfig& task);

// Why `tokens` give no training window (empty: they do), with what to do.
std::string NoTrainingWindowReason(const PersonTokens& tokens);

// NoTrainingWindowReason(LoadTrainingTokens(dir, device_id, task)), asked
// before every check-in, without tokenizing the whole store: events are
// read in time order only until the oldest part, which trains, has a
// window. A count of events cannot decide it (a key release or mouse-up
// gives no token, repeated pointer moves one), and it takes no more: the
// first few events usually settle it. The whole store is read only when it
// gives no window.
absl::StatusOr<std::string> NoTrainingDataInStore(const std::string& dir,
                                                  const std::string& device_id,
                                                  const TaskConfig& task);

}  // namespace tacit::runtime
