// tacit-shell-event SOCKET KIND NAME: what the shell hook (`tacit-client
// shell-hook`) runs after each command line, to tell the collector the
// command's name. It sends "KIND NAME" and exits 0 whatever happens, at once:
// the owner's shell must never wait or print an error because of tacit. The
// collector decides what to keep (client/collector/shell_event.h). No C++
// library: it links libc alone (shell_event_sender.h).

#include <cstring>

#include "client/collector/shell_event_sender.h"

int main(int argc, char** argv) {
  if (argc != 4) return 0;
  // Longer than any datagram the collector accepts (kMaxShellDatagramBytes):
  // not sent at all.
  char datagram[128];
  const size_t kind = std::strlen(argv[2]), name = std::strlen(argv[3]);
  if (kind + 1 + name > sizeof datagram) return 0;
  std::memcpy(datagram, argv[2], kind);
  datagram[kind] = ' ';
  std::memcpy(datagram + kind + 1, argv[3], name);
  tacit::collector::SendShellEvent(argv[1], datagram, kind + 1 + name);
  return 0;
}
