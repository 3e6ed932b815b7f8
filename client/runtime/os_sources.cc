#include "client/runtime/os_sources.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/runtime/command_runner.h"

namespace tacit::runtime {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first line of what a tool said when it failed ("Failed to connect to
// bus: ..."), for the status.
std::string FirstLine(const CommandResult& result) {
  std::string text = result.errors.empty() ? result.output : result.errors;
  const std::string first = text.substr(0, text.find('\n'));
  absl::string_view line = absl::StripAsciiWhitespace(first);
  return line.empty() ? absl::StrCat("exit code ", result.exit_code) : std::string(line);
}

// Runs the tool; the error text names the tool when it did not succeed.
std::optional<CommandResult> Run(const std::vector<std::string>& argv, double timeout_seconds,
                                 std::string* why_not) {
  auto result = RunCommand(argv, timeout_seconds);
  if (!result.ok()) {
    *why_not = std::string(result.status().message());
    return std::nullopt;
  }
  if (result->exit_code != 0) {
    *why_not = absl::StrCat(argv[0], ": ", FirstLine(*result));
    return std::nullopt;
  }
  return *std::move(result);
}

}  // namespace

std::map<std::string, std::string> ParseProperties(absl::string_view text) {
  std::map<std::string, std::string> properties;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos || equals == 0) continue;
    properties[std::string(absl::StripAsciiWhitespace(line.substr(0, equals)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(equals + 1)));
  }
  return properties;
}

std::optional<int> IdleMinutesFromLogind(absl::string_view show_session, int64_t now_us) {
  const auto properties = ParseProperties(show_session);
  auto hint = properties.find("IdleHint");
  if (hint == properties.end()) return std::nullopt;
  if (hint->second == "no") return 0;
  if (hint->second != "yes") return std::nullopt;
  auto since = properties.find("IdleSinceHint");
  int64_t since_us = 0;
  if (since == properties.end() || !absl::SimpleAtoi(since->second, &since_us) || since_us <= 0) {
    return std::nullopt;  // idle, but logind does not say since when
  }
  return static_cast<int>(std::max<int64_t>(0, now_us - since_us) / 60'000'000);
}

std::optional<int> NetworkManagerMeteredValue(absl::string_view busctl_reply) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(busctl_reply), ' ', absl::SkipEmpty());
  int value = 0;
  if (parts.size() != 2 || parts[0] != "u" || !absl::SimpleAtoi(parts[1], &value) || value < 0 ||
      value > 4) {
    return std::nullopt;
  }
  return value;
}

Metered MeteredFromNetworkManager(int nm_metered) {
  switch (nm_metered) {
    case 1:  // NM_METERED_YES
    case 3:  // NM_METERED_GUESS_YES
      return Metered::kYes;
    case 2:  // NM_METERED_NO
    case 4:  // NM_METERED_GUESS_NO
      return Metered::kNo;
    default:
      return Metered::kUnknown;
  }
}

const char* NetworkManagerMeteredName(int nm_metered) {
  static const char* const kNames[] = {"unknown", "yes", "no", "guessed yes", "guessed no"};
  return nm_metered >= 0 && nm_metered <= 4 ? kNames[nm_metered] : "invalid";
}

SourceAnswer ReadLogindIdleMinutes(const std::string& loginctl, uint32_t uid,
                                   double timeout_seconds) {
  SourceAnswer answer;
  std::string why_not;
  auto user = Run({loginctl, "show-user", std::to_string(uid), "--property=Display"},
                  timeout_seconds, &why_not);
  if (!user) {
    answer.source = absl::StrCat("logind: ", why_not);
    return answer;
  }
  const std::string session = ParseProperties(user->output)["Display"];
  if (session.empty()) {
    answer.source = absl::StrCat("logind: user ", uid, " has no graphical session");
    return answer;
  }
  auto shown =
      Run({loginctl, "show-session", session, "--property=IdleHint", "--property=IdleSinceHint"},
          timeout_seconds, &why_not);
  if (!shown) {
    answer.source = absl::StrCat("logind: ", why_not);
    return answer;
  }
  answer.value = IdleMinutesFromLogind(shown->output, NowMicros());
  answer.source = answer.value
                      ? absl::StrCat("logind session ", session, " IdleHint")
                      : absl::StrCat("logind: session ", session, " gave no usable IdleHint");
  return answer;
}

SourceAnswer ReadNetworkManagerMetered(const std::string& busctl, double timeout_seconds) {
  SourceAnswer answer;
  std::string why_not;
  auto reply = Run({busctl, "--system", "get-property", "org.freedesktop.NetworkManager",
                    "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager", "Metered"},
                   timeout_seconds, &why_not);
  if (!reply) {
    answer.source = absl::StrCat("NetworkManager not reachable (", why_not, ")");
    return answer;
  }
  answer.value = NetworkManagerMeteredValue(reply->output);
  answer.source = answer.value ? absl::StrCat("NetworkManager Metered = ",
                                              NetworkManagerMeteredName(*answer.value))
                               : absl::StrCat("NetworkManager: unexpected reply '",
                                              absl::StripAsciiWhitespace(reply->output), "'");
  return answer;
}

}  // namespace tacit::runtime
