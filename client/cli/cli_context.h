#pragma once

// Shared pieces of the tacit-client subcommands. Every subcommand lives in
// its own file and registers itself on the app through an Add*Command
// function (client/cli/owner_commands.h); other modules add theirs the same
// way (e.g. the daemon's `run`) with one line in client/cli/main.cc.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/privacy_policy.h"

namespace CLI {
class App;
}

namespace tacit::cli {

struct CliContext {
  std::string dir;  // the client's folder (--dir, $TACIT_CLIENT_DIR or the default)
};

// Prints "error: <message>" to stderr and ends the command with exit code 1.
[[noreturn]] void Fail(const absl::Status& status);
inline void FailIfError(const absl::Status& status) {
  if (!status.ok()) Fail(status);
}

// The owner's privacy policy: <dir>/privacy_policy.json, written with the
// documented defaults on first use.
absl::StatusOr<PrivacyPolicy> LoadOrCreatePolicy(const std::string& dir);

// The folder of the running tacit-client: its companion programs
// (tacit-collector, tacit-shell-event) are installed beside it.
std::string InstalledProgramDir();

int64_t NowMs();
std::string FormatTime(int64_t ms);      // "2026-01-05 09:00:00 UTC"
std::string FormatBytes(int64_t bytes);  // "1.4 MiB"
// A time the owner typed, in this laptop's time zone unless it says
// otherwise: "2026-11-30" (local midnight), "2026-11-30 14:00",
// "2026-11-30T14:00:30"; with an explicit zone "... UTC", "...Z",
// "... +01:00" or "...-0500"; or milliseconds since the epoch.
absl::StatusOr<int64_t> ParseTimeArgument(const std::string& text);
// "2026-11-30 15:00:00 CET (+0100)": this laptop's local time and offset.
std::string FormatLocalTime(int64_t ms);
// "2026-11-30": the local calendar day of `ms`.
std::string LocalDay(int64_t ms);
// The inverse of FormatTime ("2026-01-05 09:00:00 UTC"); nullopt otherwise.
std::optional<int64_t> ParseFormattedTime(const std::string& text);

// The promise every owner-facing command repeats.
inline constexpr const char* kStaysHere =
    "Nothing of this leaves the laptop: events are never uploaded; only model updates "
    "(clipped, masked by secure aggregation, and noised when the task asks for differential "
    "privacy) are ever sent.";

}  // namespace tacit::cli
