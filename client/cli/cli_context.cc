#include "client/cli/cli_context.h"

#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/control_state.h"
#include "common/file_io.h"
#include "common/status_macros.h"

namespace tacit::cli {

void Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  throw CLI::RuntimeError(1);
}

absl::StatusOr<PrivacyPolicy> LoadOrCreatePolicy(const std::string& dir) {
  const std::string path = dir + "/" + kPrivacyPolicyFile;
  absl::StatusOr<PrivacyPolicy> policy = LoadPrivacyPolicy(path);
  if (!absl::IsNotFound(policy.status())) return policy;
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(path, DefaultPrivacyPolicyJson(), 0600));
  return PrivacyPolicy();
}

std::string InstalledProgramDir() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return ".";
  path.resize(static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTime(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " bytes");
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024.0));
}

namespace {

// What follows a date and time: nothing (local time), "Z", "UTC" or an
// offset "+01:00" / "-0500", after optional spaces. The offset east of UTC
// in seconds, or nullopt for local time; false when `rest` is none of these.
bool ParseZone(const char* rest, std::optional<int64_t>* offset_seconds) {
  while (*rest == ' ') ++rest;
  const std::string zone(rest);
  if (zone.empty()) {
    *offset_seconds = std::nullopt;
    return true;
  }
  if (zone == "Z" || zone == "UTC") {
    *offset_seconds = 0;
    return true;
  }
  int hours = 0, minutes = 0;
  char sign = 0;
  char tail = 0;
  const bool parsed =
      std::sscanf(zone.c_str(), "%c%2d:%2d%c", &sign, &hours, &minutes, &tail) == 3 ||
      (zone.size() == 5 &&
       std::sscanf(zone.c_str(), "%c%2d%2d%c", &sign, &hours, &minutes, &tail) == 3);
  if (!parsed || (sign != '+' && sign != '-') || hours > 14 || minutes > 59) return false;
  *offset_seconds = (sign == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseTimeArgument(const std::string& text) {
  int64_t ms = 0;
  if (absl::SimpleAtoi(text, &ms)) return ms;
  for (const char* format :
       {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    struct tm fields {};
    const char* end = strptime(text.c_str(), format, &fields);
    std::optional<int64_t> offset;
    if (end == nullptr || !ParseZone(end, &offset)) continue;
    if (offset) return (static_cast<int64_t>(timegm(&fields)) - *offset) * 1000;
    fields.tm_isdst = -1;  // the zone's rules say whether summer time applies
    const time_t local = mktime(&fields);
    if (local == static_cast<time_t>(-1)) break;
    return static_cast<int64_t>(local) * 1000;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text,
                   "' is not a time; write 2026-11-30 or 2026-11-30 14:00 (this laptop's time "
                   "zone), add UTC or an offset (2026-11-30 14:00 +01:00), or give milliseconds"));
}

namespace {

// `ms` on this laptop's clock, through strftime's `format`.
std::string LocalText(int64_t ms, const char* format) {
  const auto seconds = static_cast<time_t>(ms / 1000);
  struct tm local {};
  localtime_r(&seconds, &local);
  char text[64];
  strftime(text, sizeof text, format, &local);
  return text;
}

}  // namespace

std::string FormatLocalTime(int64_t ms) { return LocalText(ms, "%Y-%m-%d %H:%M:%S %Z (%z)"); }

std::string LocalDay(int64_t ms) { return LocalText(ms, "%Y-%m-%d"); }

std::optional<int64_t> ParseFormattedTime(const std::string& text) {
  struct tm utc {};
  const char* end = strptime(text.c_str(), "%Y-%m-%d %H:%M:%S UTC", &utc);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&utc)) * 1000;
}

}  // namespace tacit::cli
