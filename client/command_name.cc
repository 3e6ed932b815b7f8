#include "client/command_name.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace tacit {
namespace {

constexpr size_t kPasswordShapeMinBytes = 8;

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
         c == '-';
}

// A word made of name characters and '/' separators only ("./configure",
// "/usr/bin/git", "~/bin/tool"): no quotes, escapes, ':' or '@' anywhere, so
// no URL and no credential can be in it.
bool IsPlainPath(absl::string_view word) {
  if (absl::StartsWith(word, "~/")) word.remove_prefix(2);
  for (char c : word) {
    if (!IsNameChar(c) && c != '/') return false;
  }
  return true;
}

// NAME=value before a command sets an environment variable for it. Only a
// value of plain characters is accepted: with quotes, escapes or `$(...)` the
// value may contain spaces, and the word after it may still be the value.
enum class Assignment { kNone, kPlain, kComplex };
Assignment ClassifyAssignment(absl::string_view word) {
  const size_t eq = word.find('=');
  if (eq == 0 || eq == absl::string_view::npos) return Assignment::kNone;
  for (char c : word.substr(0, eq)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return Assignment::kNone;
    }
  }
  for (char c : word.substr(eq + 1)) {
    if (absl::string_view("'\"`$\\(){}").find(c) != absl::string_view::npos) {
      return Assignment::kComplex;
    }
  }
  return Assignment::kPlain;
}

// Generated passwords and API keys mix upper-case letters and digits; command
// names almost never do once they are 8 bytes or longer.
bool IsPasswordShaped(absl::string_view word) {
  if (word.size() < kPasswordShapeMinBytes) return false;
  bool upper = false, digit = false;
  for (char c : word) {
    upper |= absl::ascii_isupper(static_cast<unsigned char>(c));
    digit |= absl::ascii_isdigit(static_cast<unsigned char>(c));
  }
  return upper && digit;
}

}  // namespace

bool LooksLikeCommandName(absl::string_view word) {
  if (word == "[" || word == "[[") return true;
  if (word.empty() || word.size() > kMaxCommandNameBytes) return false;
  if (word.front() == '-' || word == "." || word == "..") return false;
  for (char c : word) {
    if (!IsNameChar(c)) return false;
  }
  return !IsPasswordShaped(word);
}

std::string CommandName(absl::string_view line) {
  std::vector<absl::string_view> words =
      absl::StrSplit(line, absl::ByAnyChar(" \t\r\n\v\f"), absl::SkipEmpty());
  if (words.empty()) return "";
  size_t i = 0;
  for (; i < words.size(); ++i) {
    const Assignment assignment = ClassifyAssignment(words[i]);
    if (assignment == Assignment::kNone) break;
    if (assignment == Assignment::kComplex) return std::string(kUnknownCommand);
  }
  if (i == words.size()) return std::string(kUnknownCommand);  // `SECRET=x` on its own
  absl::string_view word = words[i];
  if (word == "[" || word == "[[") return std::string(word);
  if (!IsPlainPath(word)) return std::string(kUnknownCommand);
  const size_t slash = word.rfind('/');
  if (slash != absl::string_view::npos) word.remove_prefix(slash + 1);
  if (!LooksLikeCommandName(word)) return std::string(kUnknownCommand);
  return std::string(word);
}

}  // namespace tacit
