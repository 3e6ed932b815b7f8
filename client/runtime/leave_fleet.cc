#include "client/runtime/leave_fleet.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/collector/heartbeat.h"
#include "client/collector/shell_event.h"
#include "client/control_state.h"
#include "client/runtime/audit_log.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_ledger.h"
#include "client/store/erase_store.h"
#include "client/store/event_store.h"
#include "common/file_io.h"
#include "common/status_macros.h"

namespace tacit::runtime {
namespace {

namespace fs = std::filesystem;

// Every top-level name tacit-client and its programs write in the folder.
// Folders (fleet/, model/) are emptied whole.
const std::set<std::string>& TacitNames() {
  static const auto* names = new std::set<std::string>{
      "fleet",
      kStagedFleetDir,
      "model",
      kAuditLogFile,
      kPrivacyLedgerFile,
      kParticipationPolicyFile,
      kPrivacyPolicyFile,
      kControlStateFile,
      kDaemonStatusFile,
      kSyntheticMarkerFile,  // also removed with the store (erase_store.h)
      collector::kHeartbeatFile,
      collector::kShellSocketFile,
  };
  return *names;
}

bool IsInside(const fs::path& file, const fs::path& dir) {
  std::error_code error;
  const fs::path f = fs::weakly_canonical(file, error);
  const fs::path d = fs::weakly_canonical(dir, error);
  const auto mismatch = std::mismatch(d.begin(), d.end(), f.begin(), f.end());
  return mismatch.first == d.end();
}

absl::Status CopyAuditLog(const std::string& dir, const std::string& to) {
  if (IsInside(to, dir)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the audit log's copy would be erased with the folder: pick a path outside ", dir));
  }
  absl::StatusOr<std::string> text = ReadFileToString(absl::StrCat(dir, "/", kAuditLogFile));
  // No log: nothing ever left; the copy says so rather than not existing.
  const std::string contents = text.ok() ? *text : "";
  return WriteFileAtomically(to, contents, 0600);
}

}  // namespace

absl::StatusOr<LeaveReport> LeaveFleet(const std::string& dir, const LeaveOptions& options) {
  if (const std::string running = RunningClientPrograms(dir); !running.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "still running on ", dir, ": ", running,
        "; stop them first (systemctl --user disable --now tacit-client tacit-collector, or end "
        "them), then run leave again. Nothing was erased."));
  }
  LeaveReport report;
  if (absl::StatusOr<Enrollment> enrollment = LoadEnrollment(dir); enrollment.ok()) {
    report.device_id = enrollment->device_id;
  }
  if (absl::StatusOr<AuditTotals> totals = SumAudit(dir); totals.ok()) {
    report.rounds_joined = totals->rounds_joined;
  }
  if (!options.keep_audit_log.empty()) {
    TACIT_RETURN_IF_ERROR(CopyAuditLog(dir, options.keep_audit_log));
    report.audit_copy = options.keep_audit_log;
  }
  // Until the last file is gone, nothing more is recorded or sent.
  ControlState paused;
  paused.collection_paused = paused.training_paused = true;
  TACIT_RETURN_IF_ERROR(SaveControlState(dir, paused));
  // The store: emptied in place (pages overwritten) when it can be read, then
  // its files and key deleted either way.
  TACIT_ASSIGN_OR_RETURN(EraseAllReport erased, EraseAllInDirectory(dir));
  if (erased.emptied_in_place) report.events_erased = erased.events_erased;
  TACIT_ASSIGN_OR_RETURN(std::vector<std::string> store_files, RemoveStoreFiles(dir));
  report.removed = erased.removed_files;
  report.removed.insert(report.removed.end(), store_files.begin(), store_files.end());
  // The fleet identity first: the device key is what lets anyone speak for this laptop.
  TACIT_RETURN_IF_ERROR(ShredPath(dir + "/fleet", &report.removed));
  std::error_code error;
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir, error)) entries.push_back(entry.path());
  for (const fs::path& entry : entries) {
    const std::string name = entry.filename().string();
    // WriteFileAtomically's temporaries of a tacit file: "<name>.tmp...".
    const bool temporary =
        std::any_of(TacitNames().begin(), TacitNames().end(),
                    [&](const std::string& tacit) { return name.rfind(tacit + ".tmp", 0) == 0; });
    if (TacitNames().count(name) > 0 || temporary) {
      TACIT_RETURN_IF_ERROR(ShredPath(entry.string(), &report.removed));
    } else {
      report.left_in_place.push_back(entry.string());
    }
  }
  if (report.left_in_place.empty()) (void)::rmdir(dir.c_str());
  return report;
}

}  // namespace tacit::runtime
