#pragma once

// The collector's end of the shell hook: a Unix datagram socket in the
// client's folder (mode 0600), each datagram stamped by the kernel with the
// sender's credentials (SO_PASSCRED / SCM_CREDENTIALS, the datagram form of
// SO_PEERCRED: a process cannot claim another user's uid without
// CAP_SETUID). Datagrams from any other user, and datagrams that are not a
// plain command name (client/collector/shell_event.h), are dropped and
// counted. A datagram socket keeps no connection state, so a stalled or
// hostile sender cannot hold the collector up.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::collector {

class ShellSocket {
 public:
  struct Counts {
    int64_t received = 0;       // accepted command names
    int64_t refused_peer = 0;   // from another user, or without credentials
    int64_t refused_words = 0;  // not a plain command name
  };

  // Binds `path` for datagrams from `expected_uid` (the collector's own
  // user). A stale socket file left by a collector that died is replaced;
  // FailedPrecondition when a collector is listening there already, or when
  // the path is taken by something that is not a socket.
  static absl::StatusOr<std::unique_ptr<ShellSocket>> Listen(const std::string& path,
                                                             uid_t expected_uid);
  ~ShellSocket();
  ShellSocket(const ShellSocket&) = delete;
  ShellSocket& operator=(const ShellSocket&) = delete;

  // For poll(): readable when datagrams wait.
  int fd() const { return fd_; }
  // Reads every waiting datagram (never blocks); the accepted command names.
  std::vector<std::string> Receive();
  const Counts& counts() const { return counts_; }

 private:
  ShellSocket(int fd, std::string path, uid_t expected_uid)
      : fd_(fd), path_(std::move(path)), expected_uid_(expected_uid) {}

  int fd_;
  std::string path_;
  uid_t expected_uid_;
  Counts counts_;
};

}  // namespace tacit::collector
