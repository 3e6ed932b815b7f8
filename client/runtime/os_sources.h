#pragma once

// The desktop's own answers to "is the person away?" and "is this network
// metered?", read through the tools every systemd desktop has:
//   idle     systemd-logind: the user's graphical session (loginctl
//            show-user UID -p Display), then that session's IdleHint and
//            IdleSinceHint (loginctl show-session ID). GNOME and KDE set the
//            hint on X11 and Wayland once the screen idles (GNOME after its
//            idle-delay, 5 min by default), so it is minutes since that.
//   metered  NetworkManager's D-Bus property org.freedesktop.NetworkManager
//            Metered (busctl get-property ...): the metered state of the
//            connection with the default route, NMMetered 1 yes, 3 guessed
//            yes (metered), 2 no, 4 guessed no (unmetered), 0 unknown.
// The parsers are separate so they are tested on captured real outputs.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace tacit::runtime {

// `Key=Value` lines, as loginctl show-user / show-session print them.
std::map<std::string, std::string> ParseProperties(absl::string_view text);

// Minutes the session has been idle from its IdleHint / IdleSinceHint
// (microseconds since the epoch, wall clock) at `now_us`: 0 when not idle;
// nothing when the properties are missing, malformed, or idle with no time.
std::optional<int> IdleMinutesFromLogind(absl::string_view show_session, int64_t now_us);

// NMMetered from busctl's `u N` reply; nothing when it is not one.
std::optional<int> NetworkManagerMeteredValue(absl::string_view busctl_reply);

enum class Metered { kUnknown, kYes, kNo };
Metered MeteredFromNetworkManager(int nm_metered);
const char* NetworkManagerMeteredName(int nm_metered);  // "guessed no", ...

struct SourceAnswer {
  std::optional<int> value;  // nothing: the source did not answer
  std::string source;        // what answered, or why it did not
};

// Runs loginctl (a program name or path) for the user `uid`.
SourceAnswer ReadLogindIdleMinutes(const std::string& loginctl, uint32_t uid,
                                   double timeout_seconds);

// Runs busctl; the value is the NMMetered number.
SourceAnswer ReadNetworkManagerMetered(const std::string& busctl, double timeout_seconds);

}  // namespace tacit::runtime
