#include "client/collector/shell_event_sender.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace tacit::collector {

void SendShellEvent(const char* socket_path, const char* data, size_t size) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const size_t path_size = std::strlen(socket_path);
  if (path_size == 0 || path_size >= sizeof address.sun_path) return;
  std::memcpy(address.sun_path, socket_path, path_size);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ::sendto(fd, data, size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&address),
           sizeof address);
  ::close(fd);
}

}  // namespace tacit::collector
