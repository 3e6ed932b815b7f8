#include "client/store/erase_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/store/event_store.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

// Overwrites a regular file's bytes with zeros before it is unlinked (the
// key file: 65 bytes; on a copy-on-write or flash disk this is best effort).
void OverwriteWithZeros(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    const std::string zeros(static_cast<size_t>(st.st_size), '\0');
    if (::write(fd, zeros.data(), zeros.size()) == static_cast<ssize_t>(zeros.size())) {
      ::fsync(fd);
    }
  }
  ::close(fd);
}

}  // namespace

absl::Status OverwriteAndRemove(const std::string& path) {
  OverwriteWithZeros(path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(absl::StrCat(
        "could not delete '", path, "': ", std::strerror(errno), "; delete it by hand"));
  }
  return absl::OkStatus();
}

absl::Status ShredPath(const std::string& path, std::vector<std::string>* removed) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) return absl::OkStatus();
  if (fs::is_directory(status)) {
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(path, error)) children.push_back(entry.path());
    for (const fs::path& child : children) TACIT_RETURN_IF_ERROR(ShredPath(child, removed));
    if (::rmdir(path.c_str()) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("could not delete the folder '", path, "'; delete it by hand"));
    }
  } else {
    // A symlink or socket is unlinked, never followed (O_NOFOLLOW).
    TACIT_RETURN_IF_ERROR(OverwriteAndRemove(path));
  }
  removed->push_back(path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RemoveStoreFiles(const std::string& dir) {
  const std::string db = absl::StrCat(dir, "/", EventStore::kDatabaseFile);
  const std::string key = absl::StrCat(dir, "/", EventStore::kKeyFile);
  std::vector<std::string> removed;
  const std::string marker = absl::StrCat(dir, "/", kSyntheticMarkerFile);
  for (const std::string& path : {db, db + "-wal", db + "-shm", db + "-journal", key, marker}) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // not there: nothing to erase
    if (path == key) OverwriteWithZeros(path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::PermissionDeniedError(
          absl::StrCat("could not delete '", path, "': ", std::strerror(errno),
                       "; delete it by hand (files already deleted: ", removed.size(), ")"));
    }
    removed.push_back(path);
  }
  return removed;
}

absl::StatusOr<std::vector<std::string>> RemovePersonalModel(const std::string& dir) {
  std::vector<std::string> removed;
  for (const char* file : {kPersonalModelFile, kPersonalModelInfoFile}) {
    const std::string path = absl::StrCat(dir, "/", file);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    TACIT_RETURN_IF_ERROR(OverwriteAndRemove(path));
    removed.push_back(path);
  }
  return removed;
}

absl::StatusOr<EraseAllReport> EraseAllInDirectory(const std::string& dir) {
  EraseAllReport report;
  TACIT_ASSIGN_OR_RETURN(report.personal_model_files, RemovePersonalModel(dir));
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::OpenInDirectory(dir);
    absl::Status problem = store.status();
    if (store.ok()) {
      absl::StatusOr<int64_t> erased = (*store)->EraseAll();
      if (erased.ok()) {
        report.emptied_in_place = true;
        report.events_erased = *erased;
        // No events, so none of them synthetic.
        TACIT_RETURN_IF_ERROR(OverwriteAndRemove(absl::StrCat(dir, "/", kSyntheticMarkerFile)));
        return report;
      }
      problem = erased.status();
    }
    report.unreadable_reason = std::string(problem.message());
  }  // the connection is closed before its files go
  TACIT_ASSIGN_OR_RETURN(report.removed_files, RemoveStoreFiles(dir));
  return report;
}

}  // namespace tacit
