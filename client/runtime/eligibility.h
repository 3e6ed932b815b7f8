#pragma once

// May this laptop train now? Readings from Linux, each overridable (tests,
// machines without the source, owners who want a stricter setting):
//   AC power      /sys/class/power_supply/*/type == "Mains" with online == 1;
//                 no supply listed at all (a desktop or VM) counts as AC
//   battery       /sys/class/power_supply/*/capacity of type "Battery"; -1 none
//   idle minutes  since the newest access time of /dev/pts/* and /dev/tty*
//                 (what `w` shows as IDLE); no terminal at all counts as idle
//   network       Linux has no kernel-wide metered flag: unmetered unless the
//                 owner says otherwise (tacit-client run --metered)
//   local hour    localtime_r
// The task's EligibilityConfig says what is required.

#include <optional>
#include <string>

#include "coordinator/task_config.h"
#include "tacit/v1/federation.pb.h"

namespace tacit::runtime {

struct DeviceReadings {
  bool on_ac_power = true;
  int battery_percent = -1;  // -1: no battery
  int idle_minutes = 0;
  bool unmetered_network = true;
  int local_hour = 0;  // 0..23
};

struct ReadingOverrides {
  std::optional<bool> on_ac_power;
  std::optional<int> battery_percent;
  std::optional<int> idle_minutes;
  std::optional<bool> unmetered_network;
  std::optional<int> local_hour;
};

struct ReadingSources {
  std::string power_supply_dir = "/sys/class/power_supply";
  std::string terminal_dir = "/dev";
};

DeviceReadings ReadDevice(const ReadingOverrides& overrides, const ReadingSources& sources = {});

// Empty when eligible, else the first requirement that is not met.
std::string IneligibleReason(const coordinator::EligibilityConfig& required,
                             const DeviceReadings& readings);

// What a check-in reports.
v1::DeviceState ToDeviceState(const DeviceReadings& readings, const std::string& ineligible_reason,
                              bool training_paused);

}  // namespace tacit::runtime
