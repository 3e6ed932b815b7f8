#pragma once

// `tacit-client leave`: the owner leaves the fleet and takes everything of
// tacit's off this laptop. The fleet identity (device key, certificate,
// SecAgg credential, the fleet CA and any pinned coordinator certificate) is
// deleted, key files overwritten first; the event store is emptied in place
// (pages overwritten) and its files and key deleted; the model, the task, the
// privacy ledger, the audit log, the policies and the status files go too.
// Only names tacit-client writes are removed (a --dir pointed at the wrong
// folder must not empty it); anything else found there is listed, and the
// folder itself is removed when nothing is left in it.
//
// What cannot be undone, and `leave` says so: the masked updates this laptop
// already sent were summed with others' into the fleet's global model; no one
// can take them out again. The coordinator keeps this device's certificate
// and check-in records until the operator revokes the device.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::runtime {

struct LeaveOptions {
  // When set: a copy of the audit log (what left this laptop) is written
  // there first, mode 0600. Must lie outside the client's folder.
  std::string keep_audit_log;
};

struct LeaveReport {
  std::string device_id;                   // the fleet identity removed; "" when not enrolled
  int64_t rounds_joined = 0;               // rounds this laptop sent a masked update in
  int64_t events_erased = -1;              // emptied in place; -1 when the store was deleted unread
  std::string audit_copy;                  // where the audit log's copy went; "" when none
  std::vector<std::string> removed;        // every path deleted, keys first overwritten
  std::vector<std::string> left_in_place;  // entries tacit-client never writes
};

// FailedPrecondition naming them when a tacit program still runs on `dir`
// (it would re-create what is deleted, and a daemon would keep its
// connection): stop them first.
absl::StatusOr<LeaveReport> LeaveFleet(const std::string& dir, const LeaveOptions& options);

}  // namespace tacit::runtime
