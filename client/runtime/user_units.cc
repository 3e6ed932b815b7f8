#include "client/runtime/user_units.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace tacit::runtime {
namespace {

absl::Status CheckPath(absl::string_view what, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " '", path, "' is not an absolute path; pass one"));
  }
  for (char c : path) {
    if (absl::string_view(" \t\n\r\"'\\%;$`").find(c) != absl::string_view::npos ||
        static_cast<unsigned char>(c) < 0x20) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the ", what, " '", path,
          "' holds whitespace, a quote, '\\', '%', ';', '$' or '`', which a systemd unit would "
          "read differently; use a folder without them"));
    }
  }
  return absl::OkStatus();
}

// Hardening that works in a user unit. NoNewPrivileges and the Restrict*/
// Lock* options need nothing; ProtectSystem, ProtectHome and ReadWritePaths
// need a mount namespace, which a user manager sets up through an
// unprivileged user namespace (Debian's default; where the kernel forbids
// them the unit fails to start, and these lines are the ones to remove).
// PrivateTmp is left out: the collector reaches the X server through
// /tmp/.X11-unix.
constexpr absl::string_view kHardening = R"(NoNewPrivileges=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
UMask=0077
# The one writable folder must exist before the namespace is set up; "+":
# this command alone runs outside it.
ExecStartPre=+/usr/bin/mkdir -p -m 0700 @DIR@
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=@DIR@
)";

constexpr absl::string_view kCollector = R"([Unit]
Description=tacit collector: key classes, clicks, app switches and shell command names, privacy-filtered, into the encrypted store (never typed text or window titles)
Documentation=file:///usr/share/doc/tacit-client/collector.md
PartOf=graphical-session.target
After=graphical-session.target

[Service]
Type=simple
ExecStart=@PROGRAMS@/tacit-collector --dir @DIR@
Restart=on-failure
RestartSec=10
# The collector's footprint target is 30 MiB (docs/collector.md).
MemoryHigh=64M
@HARDENING@
[Install]
WantedBy=graphical-session.target
)";

constexpr absl::string_view kDaemon = R"([Unit]
Description=tacit fleet daemon: takes part in training rounds when idle, charging and unmetered; sends only masked model updates
Documentation=file:///usr/share/doc/tacit-client/federation.md
After=network-online.target
# Only once this laptop is enrolled (tacit-client enroll).
ConditionPathExists=@DIR@/fleet/fleet.json

[Service]
Type=simple
ExecStart=@PROGRAMS@/tacit-client --dir @DIR@ run
Restart=on-failure
RestartSec=60
Nice=10
IOSchedulingClass=idle
@HARDENING@
[Install]
WantedBy=default.target
)";

std::string Fill(absl::string_view unit, const UserUnitOptions& options) {
  return absl::StrReplaceAll(absl::StrReplaceAll(unit, {{"@HARDENING@", kHardening}}),
                             {{"@PROGRAMS@", options.program_dir}, {"@DIR@", options.client_dir}});
}

}  // namespace

absl::StatusOr<std::vector<UserUnit>> MakeUserUnits(const UserUnitOptions& options) {
  if (absl::Status s = CheckPath("program folder", options.program_dir); !s.ok()) return s;
  if (options.client_dir != kPackagedClientDir) {
    if (absl::Status s = CheckPath("client folder", options.client_dir); !s.ok()) return s;
  }
  std::vector<UserUnit> units;
  if (options.with_collector)
    units.push_back({"tacit-collector.service", Fill(kCollector, options)});
  units.push_back({"tacit-daemon.service", Fill(kDaemon, options)});
  return units;
}

}  // namespace tacit::runtime
