#pragma once

// Running programs from tests: whether one is installed, and a shell command
// line's output and exit code.

#include <string>
#include <utility>

namespace tacit::testing {

// Whether `program` is an executable in one of $PATH's folders.
bool OnPath(const std::string& program);

// Runs the shell command line `command` to the end: its output (stdout and
// stderr) and exit code (-1 when it did not exit).
std::pair<std::string, int> Shell(const std::string& command);

}  // namespace tacit::testing
