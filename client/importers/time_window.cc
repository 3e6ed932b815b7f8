#include "client/importers/time_window.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace tacit {
namespace {

std::string DateOf(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

}  // namespace

bool HasDatedTimes(DataFormat format) {
  return format == DataFormat::kAaltoKeystrokes || format == DataFormat::kJsonLines;
}

int64_t ImportTimeMs(const ImportOptions& options) {
  if (options.now_ms != 0) return options.now_ms;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status CheckEventTime(int64_t time_ms, int64_t now_ms, absl::string_view what) {
  if (time_ms < kEarliestEventMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", time_ms, " ms (", DateOf(time_ms),
        ") is before 1990-01-01, so it is no date of this log; times must be milliseconds "
        "since the epoch (logs with relative times are imported with --times now)"));
  }
  const int64_t latest = now_ms + kLatestEventAfterImportMs;
  if (time_ms > latest) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", time_ms, " ms (", DateOf(time_ms), ") is more than a day after the import (",
        DateOf(now_ms), "); check the clock of the machine that wrote the log"));
  }
  return absl::OkStatus();
}

}  // namespace tacit
