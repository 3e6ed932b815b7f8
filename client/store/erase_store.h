#pragma once

// `tacit-client erase --all`: the owner's right to erase must not depend on
// the store being readable. A healthy store is emptied in place (deleted
// pages overwritten, WAL truncated). A store that cannot be opened or emptied
// (damaged, a wrong or missing key, a schema from another version) is erased
// by deleting its files: the database with its -wal, -shm and -journal files,
// and the key file (overwritten first), after which no copy of the encrypted
// pages left on the disk can be decrypted. The next use starts a new store.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit {

struct EraseAllReport {
  bool emptied_in_place = false;  // the store was readable and is now empty
  int64_t events_erased = 0;      // when emptied in place
  std::string unreadable_reason;  // why the files were deleted instead
  std::vector<std::string> removed_files;
  std::vector<std::string> personal_model_files;  // erased with the events
};

// The laptop's personal model (client/runtime/personal_model_store.h) is
// fine-tuned on the stored events, so it is erased with them: by `erase
// --all`, and by an erase of any time range (the next round rebuilds it
// from what is left).
inline constexpr const char* kPersonalModelFile = "model/personal.model";
inline constexpr const char* kPersonalModelInfoFile = "model/personal.json";

// Overwrites and deletes the personal model's files that exist; returns
// their paths. PermissionDenied naming a file that cannot be deleted.
absl::StatusOr<std::vector<std::string>> RemovePersonalModel(const std::string& dir);

// Erases every event of the store in `dir` (EventStore::kDatabaseFile and
// kKeyFile), the synthetic-events marker and the personal model. Fails only when a file exists and
// cannot be deleted (the error names it and what to do), never because its content is unreadable.
absl::StatusOr<EraseAllReport> EraseAllInDirectory(const std::string& dir);

// Overwrites a regular file's bytes with zeros, fsyncs, then unlinks it: for
// key files (on a copy-on-write or flash disk the overwrite is best effort;
// the unlink is not). OK when the file does not exist; PermissionDenied
// naming the file when it cannot be deleted.
absl::Status OverwriteAndRemove(const std::string& path);

// Overwrites (regular files, OverwriteAndRemove) and deletes `path`, a folder
// bottom-up; symlinks are unlinked, never followed. Each path deleted is
// appended to `removed`. OK when `path` does not exist.
absl::Status ShredPath(const std::string& path, std::vector<std::string>* removed);

// Deletes the store's files in `dir` that exist (with the synthetic-events
// marker, kSyntheticMarkerFile); returns their paths.
absl::StatusOr<std::vector<std::string>> RemoveStoreFiles(const std::string& dir);

}  // namespace tacit
