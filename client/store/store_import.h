#pragma once

// A log file -> privacy filter -> the encrypted store, streaming, as one
// transaction: either every kept event of the file is stored or, on an
// error, none is (events stored before the import are never touched).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"
#include "client/store/event_store.h"

namespace tacit {

struct StoreImportOptions {
  ImportOptions import;
  // Added to every event's time (see LatestEventTime: logs with relative
  // times, or old logs that the retention window would delete at once). The
  // moved times must lie in the accepted window (client/importers/time_window.h):
  // a line outside it is a bad line, refused or skipped as import.on_bad_line says.
  int64_t shift_ms = 0;
};

struct StoreImportReport {
  ImportReport file;
  int64_t stored = 0;
  PrivacyFilter::Counts filtered;
};

// The latest event time in a file (a quick first pass, which also finds a
// malformed line before anything is stored); 0 for a file without events.
// Formats with dated times are checked against the accepted window already
// here, so one corrupt time cannot decide the shift for the whole file.
absl::StatusOr<int64_t> LatestEventTime(DataFormat format, const std::string& path,
                                        const ImportOptions& options);

absl::StatusOr<StoreImportReport> ImportIntoStore(EventStore& store, DataFormat format,
                                                  const std::string& path,
                                                  const StoreImportOptions& options,
                                                  const PrivacyPolicy& policy);

}  // namespace tacit
