#pragma once

// The systemd USER units that run tacit on a laptop as its owner, never as
// root: the collector (tacit-collector, started with the graphical session)
// and the fleet daemon (`tacit-client run`, only once the laptop is
// enrolled). `tacit-client install-service` writes them (docs/collector.md,
// "Running as a service").

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::runtime {

// The client folder in the units a package ships (/usr/lib/systemd/user):
// systemd's specifier for the user's home, so one file serves every user.
inline constexpr const char* kPackagedClientDir = "%h/.local/share/tacit";

struct UserUnit {
  std::string name;  // "tacit-collector.service"
  std::string text;  // the unit file
};

struct UserUnitOptions {
  std::string program_dir;     // where tacit-client (and tacit-collector) are installed
  std::string client_dir;      // the client's folder (--dir): store, key, policy, fleet
  bool with_collector = true;  // false: this build has no tacit-collector
};

// The units, or InvalidArgument when a path is relative or holds a character
// a unit file would read differently (whitespace, quotes, '\\', '%', ';');
// the one exception is a client_dir of exactly kPackagedClientDir.
absl::StatusOr<std::vector<UserUnit>> MakeUserUnits(const UserUnitOptions& options);

}  // namespace tacit::runtime
