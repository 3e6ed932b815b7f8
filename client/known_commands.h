#pragma once

// For a live shell the client knows more than an imported log tells: what
// the shell could actually run. A word typed at the prompt that names no
// executable in PATH, no shell builtin and none of the user's aliases or
// functions is not a command (typically a password typed when the shell, not
// the password prompt, had the input), so the privacy filter stores
// kUnknownCommand for it. Give it to PrivacyFilter::VerifyCommandsWith.

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace tacit {

class KnownCommands {
 public:
  // `path_variable` is $PATH (':'-separated); relative entries (".", "",
  // "bin") are ignored, since what they name depends on the current folder.
  // `aliases_and_functions`: names the shell reports (`alias`, `typeset -f`).
  KnownCommands(absl::string_view path_variable, std::vector<std::string> aliases_and_functions);

  // $PATH of this process, no aliases or functions.
  static KnownCommands FromEnvironment();

  // True when `name` is a shell builtin or keyword, one of the aliases or
  // functions, or an executable regular file in one of the PATH folders.
  // Checked on each call, so a program installed since is known at once.
  bool Knows(absl::string_view name) const;

  // The builtins and keywords of bash and zsh that a person types.
  static bool IsShellBuiltin(absl::string_view name);

 private:
  std::vector<std::string> path_dirs_;
  absl::flat_hash_set<std::string> aliases_and_functions_;
};

}  // namespace tacit
