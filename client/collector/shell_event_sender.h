#pragma once

// The shell hook's sending end, used by tacit-shell-event (a program of a
// few kilobytes that the hook runs once per command line). It uses no C++
// library at all, so the program links libc alone and starts as fast as
// /bin/true.

#include <cstddef>

namespace tacit::collector {

// Sends `size` bytes of `data` as one datagram to the collector's socket at
// `socket_path` without blocking. Nothing happens when no collector listens,
// or the path is too long: the shell must never wait for, or fail because
// of, the collector.
void SendShellEvent(const char* socket_path, const char* data, size_t size);

}  // namespace tacit::collector
