#include "secure_agg/share_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

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

absl::StatusOr<std::shared_ptr<ShareSpool>> ShareSpool::Create(const std::string& dir) {
  const std::string folder = SpoolFolder(dir);
  const int fd = OpenNamelessFile(folder);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot make a temporary file in ", folder, " for the round's encrypted shares (",
        std::strerror(errno), "); point TMPDIR at a writable folder"));
  }
  return std::shared_ptr<ShareSpool>(new ShareSpool(fd, folder));
}

ShareSpool::~ShareSpool() { ::close(fd_); }

absl::StatusOr<uint32_t> ShareSpool::Append(absl::Span<const HeldShare> shares) {
  const uint32_t first = count_.load();
  if (shares.size() > std::numeric_limits<uint32_t>::max() - first) {
    return absl::ResourceExhaustedError("more than 2^32 shares in one round");
  }
  const char* bytes = reinterpret_cast<const char*>(shares.data());
  size_t left = shares.size() * sizeof(HeldShare);
  off_t at = static_cast<off_t>(first) * static_cast<off_t>(sizeof(HeldShare));
  while (left > 0) {
    const ssize_t wrote = ::pwrite(fd_, bytes, left, at);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      return absl::InternalError(absl::StrCat("cannot hold encrypted shares in ", dir_, " (",
                                              wrote < 0 ? std::strerror(errno) : "no space",
                                              "); free disk space there or set TMPDIR"));
    }
    bytes += wrote;
    left -= static_cast<size_t>(wrote);
    at += wrote;
  }
  count_.store(first + static_cast<uint32_t>(shares.size()));
  return first;
}

absl::Status ShareSpool::Read(absl::Span<const uint32_t> numbers,
                              std::vector<HeldShare>* out) const {
  out->resize(numbers.size());
  const uint32_t count = count_.load();
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] >= count) {
      return absl::InternalError(
          absl::StrCat("share record ", numbers[i], " of ", count, " asked for (a bug)"));
    }
    char* into = reinterpret_cast<char*>(&(*out)[i]);
    size_t left = sizeof(HeldShare);
    off_t at = static_cast<off_t>(numbers[i]) * static_cast<off_t>(sizeof(HeldShare));
    while (left > 0) {
      const ssize_t got = ::pread(fd_, into, left, at);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        return absl::InternalError(
            absl::StrCat("cannot read held encrypted shares back from ", dir_, " (",
                         got < 0 ? std::strerror(errno) : "file shorter", ")"));
      }
      into += got;
      left -= static_cast<size_t>(got);
      at += got;
    }
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
