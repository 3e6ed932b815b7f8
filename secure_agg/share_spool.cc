#include "secure_agg/share_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tacit::secagg {
namespace {

std::string SpoolFolder(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// A file with no name in `folder`: O_TMPFILE, or mkstemp and unlink.
int OpenNamelessFile(const std::string& folder) {
#ifdef O_TMPFILE
  int fd = ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
#endif
  std::string path = folder + "/tacit-shares-XXXXXX";
  int made = ::mkstemp(path.data());
  if (made < 0) return -1;
  ::unlink(path.c_str());
  ::fcntl(made, F_SETFD, FD_CLOEXEC);
  return made;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpoolFile>> SpoolFile::Create(const std::string& dir,
                                                             size_t record_bytes,
                                                             std::string what) {
  const std::string folder = SpoolFolder(dir);
  const int fd = OpenNamelessFile(folder);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot make a temporary file in ", folder,
                                                      " for the ", what, " (", std::strerror(errno),
                                                      "); point TMPDIR at a writable folder"));
  }
  return std::unique_ptr<SpoolFile>(new SpoolFile(fd, folder, record_bytes, std::move(what)));
}

SpoolFile::~SpoolFile() { ::close(fd_); }

absl::Status SpoolFile::WriteAt(uint64_t first, const void* records, size_t count) {
  const char* bytes = static_cast<const char*>(records);
  size_t left = count * record_bytes_;
  off_t at = static_cast<off_t>(first * record_bytes_);
  while (left > 0) {
    const ssize_t wrote = ::pwrite(fd_, bytes, left, at);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      return absl::InternalError(absl::StrCat("cannot hold the ", what_, " in ", dir_, " (",
                                              wrote < 0 ? std::strerror(errno) : "no space",
                                              "); free disk space there or set TMPDIR"));
    }
    bytes += wrote;
    left -= static_cast<size_t>(wrote);
    at += wrote;
  }
  uint64_t end = end_.load();
  while (first + count > end && !end_.compare_exchange_weak(end, first + count)) {
  }
  return absl::OkStatus();
}

absl::Status SpoolFile::ReadRun(uint64_t first, size_t count, void* out) const {
  if (first + count > end_.load()) {
    return absl::InternalError(absl::StrCat("records ", first, "..", first + count, " of the ",
                                            what_, " were never written (a bug)"));
  }
  char* into = static_cast<char*>(out);
  size_t left = count * record_bytes_;
  off_t at = static_cast<off_t>(first * record_bytes_);
  while (left > 0) {
    const ssize_t got = ::pread(fd_, into, left, at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return absl::InternalError(absl::StrCat("cannot read the ", what_, " back from ", dir_, " (",
                                              got < 0 ? std::strerror(errno) : "file shorter",
                                              ")"));
    }
    into += got;
    left -= static_cast<size_t>(got);
    at += got;
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
