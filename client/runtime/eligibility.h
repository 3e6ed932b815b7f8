#pragma once

// May this laptop train now? Readings from Linux, each overridable (tests,
// machines without the source, owners who want a stricter setting), and
// each saying which source answered (shown by `tacit-client status`):
//   AC power      /sys/class/power_supply/*/type == "Mains" with online == 1;
//                 no supply listed at all (a desktop or VM) counts as AC
//   battery       /sys/class/power_supply/*/capacity of type "Battery"; -1 none
//   idle minutes  1. systemd-logind's IdleHint of the user's graphical session
//                    (os_sources.h), set by GNOME/KDE on X11 and Wayland;
//                 2. else the newest access time of /dev/pts/* and /dev/tty*
//                    (what `w` shows as IDLE); no terminal at all counts as idle
//   network       1. NetworkManager's Metered property over D-Bus (os_sources.h);
//                 2. else unknown, which counts as the owner chose
//                    (--unknown-network; unmetered by default)
//   local hour    localtime_r
// The task's EligibilityConfig says what is required.

#include <optional>
#include <string>

#include "nlohmann/json.hpp"
#include "task/task_config.h"

namespace tacit::runtime {

struct DeviceReadings {
  bool on_ac_power = true;
  int battery_percent = -1;  // -1: no battery
  int idle_minutes = 0;
  bool unmetered_network = true;
  int local_hour = 0;          // 0..23
  std::string idle_source;     // e.g. "logind session 2 IdleHint"
  std::string network_source;  // e.g. "NetworkManager Metered = guessed no"
};

struct ReadingOverrides {
  std::optional<bool> on_ac_power;
  std::optional<int> battery_percent;
  std::optional<int> idle_minutes;
  std::optional<bool> unmetered_network;
  std::optional<int> local_hour;
  // What a network whose metered state no source knows counts as.
  bool unknown_network_is_metered = false;
};

struct ReadingSources {
  std::string power_supply_dir = "/sys/class/power_supply";
  std::string terminal_dir = "/dev";
  std::string loginctl = "loginctl";  // program names (PATH) or paths
  std::string busctl = "busctl";
  double command_timeout_seconds = 2;
};

DeviceReadings ReadDevice(const ReadingOverrides& overrides, const ReadingSources& sources = {});

// For the daemon's status file and `tacit-client status`.
nlohmann::json ReadingsToJson(const DeviceReadings& readings);

// Empty when eligible, else the first requirement that is not met.
std::string IneligibleReason(const EligibilityConfig& required, const DeviceReadings& readings);

}  // namespace tacit::runtime
