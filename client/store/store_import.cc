#include "client/store/store_import.h"

#include <algorithm>
#include <limits>

#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<int64_t> LatestEventTime(DataFormat format, const std::string& path,
                                        const ImportOptions& options) {
  int64_t latest = std::numeric_limits<int64_t>::min();
  TACIT_RETURN_IF_ERROR(ImportFile(format, path, options, [&](const RawEvent& raw) {
                          latest = std::max(latest, raw.time_ms);
                          return absl::OkStatus();
                        }).status());
  return latest == std::numeric_limits<int64_t>::min() ? 0 : latest;
}

absl::StatusOr<StoreImportReport> ImportIntoStore(EventStore& store, DataFormat format,
                                                  const std::string& path,
                                                  const StoreImportOptions& options,
                                                  const PrivacyPolicy& policy) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<EventStore::Writer> writer, store.StartWriter());
  PrivacyFilter filter(policy);
  StoreImportReport report;
  // Every stored time must be a date in the accepted window, shifted or not.
  ImportOptions import = options.import;
  import.time_shift_ms = options.shift_ms;
  TACIT_ASSIGN_OR_RETURN(report.file, ImportFile(format, path, import, [&](const RawEvent& raw) {
                           std::optional<Event> event = filter.Apply(raw);
                           if (!event) return absl::OkStatus();
                           return writer->Add(*event);
                         }));
  report.stored = writer->pending();
  TACIT_RETURN_IF_ERROR(writer->Commit());
  report.filtered = filter.counts();
  return report;
}

}  // namespace tacit
