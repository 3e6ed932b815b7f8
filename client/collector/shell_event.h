#pragma once

// What the shell hook sends the collector, and what the collector keeps of
// it. One datagram per command line: "<kind> <name>", where kind is what the
// owner's shell said about the name (`type -t` in bash, `whence -w` in zsh:
// alias, function, builtin, keyword, file) and name is the command's first
// word after any VAR=value assignments. Never arguments: the snippet does not
// send them, and the collector refuses a datagram that could hold more than a
// name. The shell's word is not trusted either: the name must look like a
// command name by the rules the bash-history importer applies
// (client/command_name.h), and a claimed builtin or keyword must be one.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "client/raw_event.h"

namespace tacit::collector {

// The socket in the client's folder (mode 0600) the collector listens on.
inline constexpr const char* kShellSocketFile = "shell.sock";

// Longer datagrams are refused unread: a kind, a space and a command name
// (client/command_name.h: kMaxCommandNameBytes) fit well inside.
inline constexpr size_t kMaxShellDatagramBytes = 64;

// The command name of a datagram, or nullopt when it is to be refused: an
// unknown kind, a name that does not look like a command name (a '/', '=',
// quote, space, URL, password shape...), a "builtin" that is none, anything
// after the name.
std::optional<std::string> AcceptedShellCommand(absl::string_view datagram);

// The raw event of an accepted command name, for the privacy filter.
RawEvent ShellCommandEvent(std::string name, int64_t time_ms);

}  // namespace tacit::collector
