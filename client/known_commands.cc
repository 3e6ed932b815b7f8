#include "client/known_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tacit {
namespace {

constexpr absl::string_view kShellBuiltins[] = {
    "!",        "[",       "[[",      "]]",      ".",        ":",       "alias",   "bg",
    "bind",     "break",   "builtin", "case",    "cd",       "command", "compgen", "complete",
    "continue", "declare", "dirs",    "disown",  "do",       "done",    "echo",    "elif",
    "else",     "enable",  "esac",    "eval",    "exec",     "exit",    "export",  "false",
    "fc",       "fg",      "fi",      "for",     "function", "getopts", "hash",    "help",
    "history",  "if",      "jobs",    "kill",    "let",      "local",   "logout",  "popd",
    "printf",   "pushd",   "pwd",     "read",    "readonly", "return",  "select",  "set",
    "shift",    "shopt",   "source",  "suspend", "test",     "then",    "time",    "times",
    "trap",     "type",    "typeset", "ulimit",  "umask",    "unalias", "unset",   "until",
    "wait",     "while",   "true",    "rehash",  "where",    "which",
};

}  // namespace

KnownCommands::KnownCommands(absl::string_view path_variable,
                             std::vector<std::string> aliases_and_functions)
    : aliases_and_functions_(aliases_and_functions.begin(), aliases_and_functions.end()) {
  for (absl::string_view dir : absl::StrSplit(path_variable, ':')) {
    if (!dir.empty() && dir.front() == '/') path_dirs_.emplace_back(dir);
  }
}

KnownCommands KnownCommands::FromEnvironment() {
  const char* path = std::getenv("PATH");
  return KnownCommands(path == nullptr ? "" : path, {});
}

bool KnownCommands::IsShellBuiltin(absl::string_view name) {
  for (absl::string_view b : kShellBuiltins) {
    if (b == name) return true;
  }
  return false;
}

bool KnownCommands::Knows(absl::string_view name) const {
  if (name.empty() || name.find('/') != absl::string_view::npos) return false;
  if (IsShellBuiltin(name) || aliases_and_functions_.contains(name)) return true;
  for (const std::string& dir : path_dirs_) {
    const std::string path = absl::StrCat(dir, "/", name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(path.c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace tacit
