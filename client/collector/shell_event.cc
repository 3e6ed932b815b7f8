#include "client/collector/shell_event.h"

#include "client/command_name.h"
#include "client/known_commands.h"

namespace tacit::collector {

std::optional<std::string> AcceptedShellCommand(absl::string_view datagram) {
  if (datagram.size() > kMaxShellDatagramBytes) return std::nullopt;
  const size_t space = datagram.find(' ');
  if (space == absl::string_view::npos) return std::nullopt;
  const absl::string_view kind = datagram.substr(0, space);
  const absl::string_view name = datagram.substr(space + 1);
  // A single word of command-name characters: no second word, no '=', '/',
  // quote or whitespace can pass.
  if (!LooksLikeCommandName(name)) return std::nullopt;
  if (kind == "builtin" || kind == "keyword") {
    if (!KnownCommands::IsShellBuiltin(name)) return std::nullopt;
  } else if (kind != "alias" && kind != "function" && kind != "file") {
    return std::nullopt;
  }
  return std::string(name);
}

RawEvent ShellCommandEvent(std::string name, int64_t time_ms) {
  RawEvent e;
  e.time_ms = time_ms;
  e.kind = EventKind::kShellCommand;
  e.command_line = std::move(name);
  return e;
}

}  // namespace tacit::collector
