#pragma once

// Eligibility sources confined to a test folder: power supplies in
// DIR/power, terminals in DIR/dev, and no loginctl or busctl, so a test
// reads the same on a laptop with a desktop session as on a build machine.

#include <filesystem>

#include "client/runtime/eligibility.h"
#include "tests/client/temp_dir.h"

namespace tacit::testing {

inline runtime::ReadingSources HermeticSources(const TempDir& dir) {
  std::filesystem::create_directories(dir.File("power"));
  std::filesystem::create_directories(dir.File("dev"));
  runtime::ReadingSources sources;
  sources.power_supply_dir = dir.File("power");
  sources.terminal_dir = dir.File("dev");
  sources.loginctl = dir.File("no-loginctl");
  sources.busctl = dir.File("no-busctl");
  return sources;
}

}  // namespace tacit::testing
