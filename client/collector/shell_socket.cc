#include "client/collector/shell_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/collector/shell_event.h"

namespace tacit::collector {
namespace {

bool ToAddress(const std::string& path, sockaddr_un* address) {
  std::memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address->sun_path) return false;
  std::memcpy(address->sun_path, path.data(), path.size());
  return true;
}

// Whether a process listens on the socket file at `address`.
bool SomeoneListens(const sockaddr_un& address) {
  const int probe = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  const bool listening =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(probe);
  return listening;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShellSocket>> ShellSocket::Listen(const std::string& path,
                                                                 uid_t expected_uid) {
  sockaddr_un address;
  if (!ToAddress(path, &address)) {
    return absl::InvalidArgumentError(absl::StrCat("the shell hook's socket path '", path,
                                                   "' is longer than ", sizeof address.sun_path - 1,
                                                   " bytes; use a shorter --dir"));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", path, "' exists and is not a socket; move it away so the collector ",
                       "can listen for shell commands there"));
    }
    if (SomeoneListens(address)) {
      return absl::FailedPreconditionError(
          absl::StrCat("another collector already listens on '", path,
                       "' (see `tacit-client status`); stop it before starting a second one"));
    }
    ::unlink(path.c_str());  // left by a collector that did not exit cleanly
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  const int on = 1;
  // The kernel then attaches the sender's real pid/uid/gid to every datagram.
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("SO_PASSCRED: ", std::strerror(error)));
  }
  // Created 0600 from the start: no instant in which another user could connect.
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int bind_error = errno;
  ::umask(old_mask);
  if (bound != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat("cannot listen for shell commands on '", path,
                                                      "': ", std::strerror(bind_error)));
  }
  return std::unique_ptr<ShellSocket>(new ShellSocket(fd, path, expected_uid));
}

ShellSocket::~ShellSocket() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::vector<std::string> ShellSocket::Receive() {
  std::vector<std::string> names;
  while (true) {
    char data[kMaxShellDatagramBytes + 1];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec io{data, sizeof data};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return names;  // EAGAIN: nothing more waits
    }
    const ucred* sender = nullptr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
          c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
        sender = reinterpret_cast<const ucred*>(CMSG_DATA(c));
      }
    }
    if (sender == nullptr || sender->uid != expected_uid_) {
      ++counts_.refused_peer;
      continue;
    }
    // A truncated datagram was longer than any name: refused with the rest.
    const bool truncated = (message.msg_flags & MSG_TRUNC) != 0;
    std::optional<std::string> name =
        truncated ? std::nullopt
                  : AcceptedShellCommand(absl::string_view(data, static_cast<size_t>(n)));
    if (!name) {
      ++counts_.refused_words;
      continue;
    }
    ++counts_.received;
    names.push_back(*std::move(name));
  }
}

}  // namespace tacit::collector
