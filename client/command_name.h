#pragma once

// What of a shell command line may be stored: the command's name, and only
// when it looks like one. Everything else a shell user types at a prompt can
// be a secret (`TOKEN=... cmd`, a password typed when no command was
// expected, `https://user:pw@host`, a quoted phrase), so a first word that
// does not qualify is replaced by kUnknownCommand, never stored verbatim.
// docs/data.md ("Shell commands") gives the rules and the reasons.

#include <string>

#include "absl/strings/string_view.h"

namespace tacit {

// Stored instead of a first word that does not look like a command name.
inline constexpr absl::string_view kUnknownCommand = "<unknown-command>";

// A command name is at most this long: longer words are tokens or keys, and a
// name is never truncated (a truncated secret is still a secret).
inline constexpr size_t kMaxCommandNameBytes = 32;

// True for a plain command name: 1..kMaxCommandNameBytes bytes of
// [A-Za-z0-9._+-], not starting with '-', not "." or "..", and not shaped like
// a password or key (8 or more bytes holding both an upper-case letter and a
// digit). The test builtins "[" and "[[" also qualify.
bool LooksLikeCommandName(absl::string_view word);

// The stored name of `command_line`'s command:
// - "" when the line has no words (the event is dropped);
// - the first word without its directory ("/usr/bin/git commit" -> "git"),
//   after leading VAR=value assignments, when it LooksLikeCommandName;
// - kUnknownCommand otherwise: a quoted or escaped word, a URL or anything
//   with ':' or '@', shell syntax, a word that is too long or password-shaped,
//   a line of assignments only, or assignments whose values hold quotes,
//   escapes or substitutions (then where the command starts is not certain).
std::string CommandName(absl::string_view command_line);

}  // namespace tacit
