#pragma once

// The shell hook's sending end, used by tacit-shell-event (a program of a
// few kilobytes that the hook runs once per command line; it links no
// library of tacit's, so starting it costs about a millisecond).

#include <string>

namespace tacit::collector {

// Sends one datagram to the collector's socket at `socket_path` without
// blocking. Nothing happens when no collector listens, or the path is too
// long: the shell must never wait for, or fail because of, the collector.
void SendShellEvent(const std::string& socket_path, const std::string& datagram);

}  // namespace tacit::collector
