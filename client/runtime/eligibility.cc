#include "client/runtime/eligibility.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/runtime/os_sources.h"

namespace tacit::runtime {
namespace {

std::string ReadTrimmed(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::string(absl::StripAsciiWhitespace(text));
}

void ReadPower(const std::string& dir, DeviceReadings& r) {
  std::error_code error;
  bool any_mains = false, mains_online = false, any_battery = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string type = ReadTrimmed(entry.path() / "type");
    if (type == "Mains") {
      any_mains = true;
      mains_online = mains_online || ReadTrimmed(entry.path() / "online") == "1";
    } else if (type == "Battery") {
      int capacity = -1;
      if (absl::SimpleAtoi(ReadTrimmed(entry.path() / "capacity"), &capacity)) {
        // Several batteries: the emptiest one decides.
        r.battery_percent = any_battery ? std::min(r.battery_percent, capacity) : capacity;
        any_battery = true;
      }
    }
  }
  // A battery without a mains supply entry runs on battery; nothing listed
  // at all is a desktop or a VM on the wall.
  r.on_ac_power = any_mains ? mains_online : !any_battery;
}

int IdleMinutes(const std::string& dev) {
  std::error_code error;
  std::time_t newest = 0;
  auto consider = [&](const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) newest = std::max(newest, st.st_atime);
  };
  for (const auto& entry : std::filesystem::directory_iterator(dev + "/pts", error)) {
    if (entry.path().filename() != "ptmx") consider(entry.path());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dev, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("tty", 0) == 0 && name.size() > 3 && absl::ascii_isdigit(name[3])) {
      consider(entry.path());
    }
  }
  if (newest == 0) return 24 * 60;  // no terminal: nobody is typing
  return static_cast<int>(std::max<std::time_t>(0, std::time(nullptr) - newest) / 60);
}

int LocalHour() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return local.tm_hour;
}

bool InHours(int hour, int start, int end) {
  if (start == end) return false;
  if (start < end) return hour >= start && hour < end;
  return hour >= start || hour < end;  // wraps past midnight
}

void ReadIdle(const ReadingOverrides& overrides, const ReadingSources& sources, DeviceReadings& r) {
  if (overrides.idle_minutes) {
    r.idle_minutes = *overrides.idle_minutes;
    r.idle_source = "override (--idle-minutes)";
    return;
  }
  SourceAnswer logind = ReadLogindIdleMinutes(sources.loginctl, static_cast<uint32_t>(::getuid()),
                                              sources.command_timeout_seconds);
  if (logind.value) {
    r.idle_minutes = *logind.value;
    r.idle_source = logind.source;
    return;
  }
  r.idle_minutes = IdleMinutes(sources.terminal_dir);
  r.idle_source = absl::StrCat("terminal access times (", logind.source, ")");
}

void ReadNetwork(const ReadingOverrides& overrides, const ReadingSources& sources,
                 DeviceReadings& r) {
  if (overrides.unmetered_network) {
    r.unmetered_network = *overrides.unmetered_network;
    r.network_source = "override (--metered)";
    return;
  }
  SourceAnswer nm = ReadNetworkManagerMetered(sources.busctl, sources.command_timeout_seconds);
  const Metered metered = nm.value ? MeteredFromNetworkManager(*nm.value) : Metered::kUnknown;
  if (metered != Metered::kUnknown) {
    r.unmetered_network = metered == Metered::kNo;
    r.network_source = nm.source;
    return;
  }
  r.unmetered_network = !overrides.unknown_network_is_metered;
  r.network_source =
      absl::StrCat("unknown, counted as ", r.unmetered_network ? "unmetered" : "metered",
                   " (--unknown-network): ", nm.source);
}

}  // namespace

DeviceReadings ReadDevice(const ReadingOverrides& overrides, const ReadingSources& sources) {
  DeviceReadings r;
  ReadPower(sources.power_supply_dir, r);
  ReadIdle(overrides, sources, r);
  ReadNetwork(overrides, sources, r);
  r.local_hour = overrides.local_hour ? *overrides.local_hour : LocalHour();
  if (overrides.on_ac_power) r.on_ac_power = *overrides.on_ac_power;
  if (overrides.battery_percent) r.battery_percent = *overrides.battery_percent;
  return r;
}

nlohmann::json ReadingsToJson(const DeviceReadings& r) {
  return {{"on_ac_power", r.on_ac_power},
          {"battery_percent", r.battery_percent},
          {"idle_minutes", r.idle_minutes},
          {"idle_source", r.idle_source},
          {"unmetered_network", r.unmetered_network},
          {"network_source", r.network_source},
          {"local_hour", r.local_hour}};
}

std::string IneligibleReason(const EligibilityConfig& required, const DeviceReadings& r) {
  if (required.require_ac_power && !r.on_ac_power) return "not on AC power";
  if (r.battery_percent >= 0 && r.battery_percent < required.min_battery_percent) {
    return absl::StrCat("battery at ", r.battery_percent, "%, below ", required.min_battery_percent,
                        "%");
  }
  if (r.idle_minutes < required.min_idle_minutes) {
    return absl::StrCat("idle for ", r.idle_minutes, " min, fewer than ",
                        required.min_idle_minutes);
  }
  if (required.unmetered_only && !r.unmetered_network) return "on a metered network";
  const bool all_day = required.allowed_hours_start == 0 && required.allowed_hours_end == 24;
  if (!all_day &&
      !InHours(r.local_hour, required.allowed_hours_start, required.allowed_hours_end % 24)) {
    return absl::StrCat("outside the allowed hours ", required.allowed_hours_start, "-",
                        required.allowed_hours_end, " (now ", r.local_hour, ")");
  }
  return "";
}

}  // namespace tacit::runtime
