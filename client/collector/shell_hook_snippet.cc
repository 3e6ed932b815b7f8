#include "client/collector/shell_hook_snippet.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tacit::collector {
namespace {

// `text` as one single-quoted shell word.
std::string Quoted(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// bash: at each prompt (PROMPT_COMMAND), the newest history entry, once. A
// line kept out of history (HISTCONTROL=ignorespace, a leading space) is
// never sent, and neither is the history loaded when the shell starts. The
// exit status the prompt may show is kept.
constexpr absl::string_view kBash =
    R"(# tacit shell hook (bash): tells the tacit collector the NAME of each command
# you run (git, ls, make), never its arguments or VAR=value assignments.
# Written by `tacit-client shell-hook bash`; remove these lines to stop it.
__tacit_shell_event() {
  local __tacit_status=$? __tacit_entry __tacit_number __tacit_word __tacit_kind
  local -a __tacit_words
  __tacit_entry=$(HISTTIMEFORMAT= builtin history 1)
  read -r __tacit_number __tacit_entry <<<"${__tacit_entry-}"
  __tacit_number=${__tacit_number%\*}
  if [[ -z ${__tacit_started-} ]]; then
    __tacit_started=1 __tacit_last=${__tacit_number-}
  elif [[ -n ${__tacit_number-} && ${__tacit_last-} != "$__tacit_number" ]]; then
    __tacit_last=$__tacit_number
    read -r -a __tacit_words <<<"${__tacit_entry-}"
    for __tacit_word in "${__tacit_words[@]}"; do
      [[ $__tacit_word =~ ^[A-Za-z_][A-Za-z0-9_]*\+?= ]] || break
      __tacit_word=
    done
    if [[ -n ${__tacit_word-} ]]; then
      __tacit_kind=$(builtin type -t -- "$__tacit_word" 2>/dev/null)
      [[ -n $__tacit_kind ]] && @SENDER@ @SOCKET@ "$__tacit_kind" "$__tacit_word"
    fi
  fi
  return $__tacit_status
}
if [[ ${PROMPT_COMMAND-} != *__tacit_shell_event* ]]; then
  PROMPT_COMMAND="__tacit_shell_event${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
)";

// zsh: preexec gets the line as typed; zsh's own lexer splits it, and the
// kind comes from zsh's tables (no subshell). A line with a leading space is
// not sent when HIST_IGNORE_SPACE is set.
constexpr absl::string_view kZsh =
    R"(# tacit shell hook (zsh): tells the tacit collector the NAME of each command
# you run (git, ls, make), never its arguments or VAR=value assignments.
# Written by `tacit-client shell-hook zsh`; remove these lines to stop it.
__tacit_preexec() {
  emulate -L zsh
  zmodload -F zsh/parameter 2>/dev/null
  [[ -o histignorespace && $1 == ' '* ]] && return
  local -a words
  words=(${(z)1})
  local word= kind=
  for word in $words; do
    [[ $word =~ '^[A-Za-z_][A-Za-z0-9_]*\+?=' ]] || break
    word=
  done
  [[ -n $word ]] || return
  if (( $+aliases[$word] )); then kind=alias
  elif (( $+functions[$word] )); then kind=function
  elif (( $+builtins[$word] )); then kind=builtin
  elif (( ${reswords[(Ie)$word]} )); then kind=keyword
  elif (( $+commands[$word] )); then kind=file
  else return
  fi
  @SENDER@ @SOCKET@ $kind $word
}
autoload -Uz add-zsh-hook
add-zsh-hook preexec __tacit_preexec
)";

}  // namespace

absl::StatusOr<std::string> ShellHookSnippet(absl::string_view shell, const std::string& sender,
                                             const std::string& socket) {
  absl::string_view snippet;
  if (shell == "bash") {
    snippet = kBash;
  } else if (shell == "zsh") {
    snippet = kZsh;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("no shell hook for '", shell, "'; tacit has one for bash and one for zsh"));
  }
  return absl::StrReplaceAll(snippet, {{"@SENDER@", Quoted(sender)}, {"@SOCKET@", Quoted(socket)}});
}

}  // namespace tacit::collector
