#include "client/runtime/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace tacit::runtime {
namespace {

constexpr size_t kMaxStreamBytes = 64 * 1024;

// The caller's environment with the locale forced to C.
std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "LC_ALL=", 7) != 0 && std::strncmp(*e, "LANGUAGE=", 9) != 0) {
      env.emplace_back(*e);
    }
  }
  env.emplace_back("LC_ALL=C");
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

class Pipe {
 public:
  Pipe() { ok_ = ::pipe2(fds_, O_CLOEXEC) == 0; }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  bool ok() const { return ok_; }
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead() { Close(fds_[0]); }
  void CloseWrite() { Close(fds_[1]); }

 private:
  static void Close(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
  bool ok_ = false;
};

int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         double timeout_seconds) {
  if (argv.empty()) return absl::InvalidArgumentError("no command to run");
  Pipe out, err;
  if (!out.ok() || !err.ok()) {
    return absl::InternalError(absl::StrCat("cannot create pipes: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write_fd(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write_fd(), 2);
  std::vector<std::string> args = argv;
  std::vector<std::string> env = ChildEnvironment();
  std::vector<char*> arg_pointers = Pointers(args);
  std::vector<char*> env_pointers = Pointers(env);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                                     env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    const std::string what = absl::StrCat("cannot run ", args[0], ": ", std::strerror(spawned));
    return spawned == ENOENT ? absl::NotFoundError(what) : absl::InternalError(what);
  }
  out.CloseWrite();
  err.CloseWrite();

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out.read_fd() : -1, POLLIN, 0},
                     {err_open ? err.read_fd() : -1, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    char buffer[4096];
    auto drain = [&](const pollfd& p, bool& open, std::string& into) {
      if (!open || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
      const ssize_t n = ::read(p.fd, buffer, sizeof(buffer));
      if (n <= 0) {
        open = n < 0 && errno == EINTR;
        return;
      }
      if (into.size() < kMaxStreamBytes) into.append(buffer, static_cast<size_t>(n));
    };
    drain(fds[0], out_open, result.output);
    drain(fds[1], err_open, result.errors);
  }
  // Both streams closed; the program itself may still linger (or a child of
  // it holds them open past the deadline).
  int status = 0;
  while (!timed_out) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    ::usleep(2000);
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(absl::StrJoin(argv, " "), " did not finish in ",
                                                    timeout_seconds, " s; killed"));
  }
  result.exit_code = ExitCodeOf(status);
  return result;
}

}  // namespace tacit::runtime
