#pragma once

// Runs an OS tool (loginctl, busctl) to read a setting: the program and its
// arguments go to posix_spawnp as given (fork/exec, never a shell string),
// with LC_ALL=C so its output is not translated, stdin from /dev/null, and a
// deadline after which the child is killed.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::runtime {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string output;  // stdout
  std::string errors;  // stderr
};

// NOT_FOUND when the program is not installed, DEADLINE_EXCEEDED when it
// did not finish within `timeout_seconds` (it is killed), otherwise the
// result whatever its exit code. Output beyond 64 KiB per stream is dropped.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         double timeout_seconds);

}  // namespace tacit::runtime
