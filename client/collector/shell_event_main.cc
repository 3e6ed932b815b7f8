// tacit-shell-event SOCKET KIND NAME: what the shell hook (`tacit-client
// shell-hook`) runs after each command line, to tell the collector the
// command's name. It sends "KIND NAME" and exits 0 whatever happens, at once:
// the owner's shell must never wait or print an error because of tacit. The
// collector decides what to keep (client/collector/shell_event.h).

#include <string>

#include "client/collector/shell_event_sender.h"

int main(int argc, char** argv) {
  if (argc != 4) return 0;
  tacit::collector::SendShellEvent(argv[1], std::string(argv[2]) + " " + argv[3]);
  return 0;
}
