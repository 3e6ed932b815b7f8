#pragma once

// Strict command lines for every benchmark: a flag the bench does not know is
// an error (a typo must not silently run the default benchmark), and --help
// prints the usage and runs nothing.

#include <optional>
#include <string>

#include "CLI/CLI.hpp"

namespace tacit::bench {

// Exit codes every bench shares.
inline constexpr int kExitOk = 0;
inline constexpr int kExitWorkMissing = 1;  // the measured work did not happen
inline constexpr int kExitBadFlags = 2;     // unknown flag or bad value

// Flags every bench takes.
struct CommonFlags {
  std::string json_path;  // "" = the JSON report goes to stdout
};

// Adds --json FILE to `app`.
void AddCommonFlags(CLI::App& app, CommonFlags* flags);

// Parses the command line. Returns the exit code the bench must return now
// (kExitOk after --help, kExitBadFlags after an unknown flag or a bad value,
// with CLI11's message and a pointer to --help on stderr), or nullopt to run.
std::optional<int> ParseFlags(CLI::App& app, int argc, char** argv);

}  // namespace tacit::bench
