#include "coordinator/service/task_change.h"

#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "task/task_config.h"

namespace tacit::coordinator {
namespace {

absl::StatusOr<nlohmann::json> Normalized(const nlohmann::json& config) {
  absl::StatusOr<TaskConfig> parsed = ParseTaskConfig(config);
  if (!parsed.ok()) return parsed.status();
  return TaskConfigToJson(*parsed);
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// "/dp/noise_multiplier" -> "dp.noise_multiplier"; an array changes element
// by element, so "/a/3/b" names the array "a" once.
std::string DottedKey(const std::string& pointer) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(pointer, '/', absl::SkipEmpty())) {
    if (AllDigits(part)) break;
    parts.push_back(absl::StrReplaceAll(part, {{"~1", "/"}, {"~0", "~"}}));
  }
  return absl::StrJoin(parts, ".");
}

std::vector<std::string> DiffKeys(const nlohmann::json& before, const nlohmann::json& after) {
  std::vector<std::string> keys;
  for (const nlohmann::json& op : nlohmann::json::diff(before, after)) {
    std::string key = DottedKey(op.value("path", ""));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

absl::Status CheckTaskChange(const nlohmann::json& stored, const nlohmann::json& wanted) {
  absl::StatusOr<nlohmann::json> before = Normalized(stored);
  absl::StatusOr<nlohmann::json> after = Normalized(wanted);
  if (!before.ok() || !after.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", before.ok() ? "new" : "stored", " task config does not parse as a task (",
        (before.ok() ? after : before).status().message(),
        "); restore the original config to resume the task, or rename the task to start a new "
        "one"));
  }
  std::vector<std::string> refused;
  for (const std::string& key : DiffKeys(*before, *after)) {
    if (key != "rounds") {
      refused.push_back(key);
      continue;
    }
    const int64_t from = before->value("rounds", int64_t{0});
    const int64_t to = after->value("rounds", int64_t{0});
    if (to < from) {
      refused.push_back(absl::StrCat("rounds (lowered from ", from, " to ", to,
                                     "; rounds may only be raised, to extend the task)"));
    }
  }
  if (refused.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("changed: ", absl::StrJoin(refused, ", "),
                   "; a running task may only raise `rounds`: restore the stored value of every "
                   "other key to resume the task, or rename the task to start a new one"));
}

}  // namespace tacit::coordinator
