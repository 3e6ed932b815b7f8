#include "bench/secure_agg/server_heap.h"

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/status_macros.h"

namespace tacit::secagg {

int64_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

int64_t ServerHeapDelivery::SampleWithoutClients() {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::close(fds[0]);
    inner_.ReleaseClients();
    const int64_t bytes = HeapInUse();
    const bool written = ::write(fds[1], &bytes, sizeof bytes) == sizeof bytes;
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  int64_t bytes = -1;
  if (::read(fds[0], &bytes, sizeof bytes) != sizeof bytes) bytes = -1;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? bytes : -1;
}

absl::Status ServerHeapDelivery::Deliver(Phase phase, const ServerMessages& messages,
                                         const ReplySink& reply) {
  auto& sample = samples_[static_cast<int>(phase)];
  sample[0] = SampleWithoutClients();
  TACIT_RETURN_IF_ERROR(inner_.Deliver(phase, messages, reply));
  sample[1] = SampleWithoutClients();
  return absl::OkStatus();
}

}  // namespace tacit::secagg
