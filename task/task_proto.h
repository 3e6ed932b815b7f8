#pragma once

// The task on the wire (proto/tacit/v1/task.proto): the coordinator sends it
// with every assignment and the laptop trains exactly what it says. The JSON
// form (task_config.h) stays the form of files; both forms are checked with
// the same key and range rules, so a coordinator that sends an out-of-range
// value (a lying or broken one) is refused by the client as an operator's typo
// is refused by `tacit-coordinator check-config`.

#include <string>

#include "absl/status/statusor.h"
#include "tacit/v1/task.pb.h"
#include "task/task_config.h"

namespace tacit {

// Every field filled, defaults resolved (cohort.min_survivors is never 0).
v1::Task TaskToProto(const TaskConfig& task);

// Checks `task` with ParseTaskConfig's rules. Errors name the offending key
// ("config key 'cohort.size' = -5 is out of range ...", after `key_prefix`
// as in ParseTaskConfig); a section absent from the message is an error, not
// a default, since the sender always fills every section.
absl::StatusOr<TaskConfig> TaskFromProto(const v1::Task& task, const std::string& key_prefix = "");

}  // namespace tacit
