#pragma once

// The shell hook: a snippet for the owner's ~/.bashrc or ~/.zshrc that,
// after each command line, sends the collector the command's name and what
// the shell says it is (alias, function, builtin, keyword, file). The
// snippet itself takes the first word after any VAR=value assignments and
// sends nothing when the shell cannot run that word (a password typed at
// the prompt, a quoted word, a path): arguments and assignments never leave
// the shell. The collector checks the word again (shell_event.h).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit::collector {

// The snippet for `shell` ("bash" or "zsh"), running `sender` (the absolute
// path of tacit-shell-event) with `socket` (the collector's socket).
// InvalidArgument for another shell.
absl::StatusOr<std::string> ShellHookSnippet(absl::string_view shell, const std::string& sender,
                                             const std::string& socket);

}  // namespace tacit::collector
