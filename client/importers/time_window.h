#pragma once

// Which event times an import accepts. A stored event's time decides when
// the retention window deletes it, so a corrupt or forged time (year 292
// million, a negative one) would keep the event forever, and a far-future one
// would also dominate "the file's last event" when times are shifted to now.
// Accepted: from 1990-01-01 to one day after the import (clock skew between
// machines and time zones stays inside that day).

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/importers/importers.h"

namespace tacit {

inline constexpr int64_t kEarliestEventMs = 631152000000;  // 1990-01-01T00:00:00Z
inline constexpr int64_t kLatestEventAfterImportMs = 24LL * 3600 * 1000;

// True for formats whose times are dates (aalto-keystrokes, jsonl); false for
// those whose times are offsets (sea-commands has none and numbers its lines,
// balabit-mouse counts seconds from the session start), which must be placed
// in time (ImportOptions::time_shift_ms) before they can be stored.
bool HasDatedTimes(DataFormat format);

// The import time `options` names (now_ms, or the wall clock when it is 0).
int64_t ImportTimeMs(const ImportOptions& options);

// OK when `time_ms` lies in [kEarliestEventMs, now_ms + kLatestEventAfterImportMs];
// otherwise InvalidArgument saying which time (`what`, e.g. "time") was how
// far out and what to do.
absl::Status CheckEventTime(int64_t time_ms, int64_t now_ms, absl::string_view what);

}  // namespace tacit
