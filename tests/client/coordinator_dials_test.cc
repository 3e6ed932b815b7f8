// A paused laptop opens no connection to its coordinator. The real
// `tacit-client run`, enrolled with a coordinator address where a plain TCP
// listener counts the connections it accepts (and closes them, so every
// check-in fails and the daemon waits for the coordinator to come back):
// once the owner pauses training, not one connection arrives, and after
// resume they do again. A connection is a TLS handshake with the device
// certificate: it tells the employer the laptop is on and where it is.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/control_state.h"
#include "client/runtime/channel_wait.h"
#include "client/runtime/enrollment.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "coordinator/pki.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"

namespace tacit {
namespace {

// Accepts and closes connections on a loopback port, counting them.
class CountingListener {
 public:
  CountingListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        const int connection = ::accept(fd_, nullptr, nullptr);
        if (connection < 0 || stop_.load()) {
          if (connection >= 0) ::close(connection);
          return;
        }
        accepted_.fetch_add(1);
        ::close(connection);
      }
    });
  }
  ~CountingListener() {
    stop_.store(true);
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  // A gRPC channel to it; nothing dialled until asked.
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_),
                               grpc::InsecureChannelCredentials());
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// `tacit-client --dir DIR run ...` as a child; SIGTERM and reaped at the end.
class Daemon {
 public:
  explicit Daemon(const std::string& dir) {
    const std::string tool = testing::BinaryDir() + "/bin/tacit-client";
    const std::string log = dir + "/../daemon.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* out = std::freopen(log.c_str(), "w", stderr);
      (void)out;
      // Eligible whatever this machine reads; no jitter, short checks, and
      // a long backoff so the wait after the failed check-in spans the test.
      ::execl(tool.c_str(), tool.c_str(), "--dir", dir.c_str(), "run", "--ac-power", "yes",
              "--battery-percent", "100", "--idle-minutes", "600", "--unknown-network", "unmetered",
              "--check-in-jitter-seconds", "0", "--check-seconds", "0.2", "--max-backoff-seconds",
              "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Daemon() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

bool WaitUntil(double seconds, const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

std::string DaemonState(const std::string& dir) {
  absl::StatusOr<std::string> text = ReadFileToString(dir + "/" + kDaemonStatusFile);
  if (!text.ok()) return "";
  absl::StatusOr<nlohmann::json> json = ParseJson(*text, kDaemonStatusFile);
  return json.ok() ? StringOr(*json, "state", "") : "";
}

// IDLE, a channel that never connected, says nothing about the
// coordinator: a wait on it dials nothing (it used to dial every <= 2 s).
TEST(ChannelWait, DialsNothingForAChannelThatNeverConnected) {
  CountingListener coordinator;
  ASSERT_GT(coordinator.port(), 0);
  testing::TempDir dir;
  auto channel = coordinator.Channel();
  std::atomic<bool> stop{false};
  EXPECT_EQ(runtime::SleepUnlessReconnected(*channel, 1.5, stop, dir.path()),
            runtime::WaitEnd::kFullWait);
  EXPECT_EQ(coordinator.accepted(), 0);
}

// The owner's pause ends a wait within a fraction of a second, whatever
// the channel's state; an unreadable control file counts as paused.
TEST(ChannelWait, ThePauseEndsTheWait) {
  CountingListener coordinator;
  ASSERT_GT(coordinator.port(), 0);
  testing::TempDir dir;
  auto channel = coordinator.Channel();
  (void)channel->GetState(/*try_to_connect=*/true);  // dialling, and failing
  std::atomic<bool> stop{false};
  ASSERT_TRUE(SaveControlState(dir.path(), ControlState{false, true, 0}).ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(runtime::SleepUnlessReconnected(*channel, 30, stop, dir.path()),
            runtime::WaitEnd::kPaused);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  dir.Write(kControlStateFile, "{broken");
  EXPECT_EQ(runtime::SleepUnlessReconnected(*channel, 30, stop, dir.path()),
            runtime::WaitEnd::kPaused);
  ASSERT_TRUE(SaveControlState(dir.path(), ControlState{}).ok());
  EXPECT_EQ(runtime::SleepUnlessReconnected(*channel, 0.3, stop, dir.path()),
            runtime::WaitEnd::kFullWait);
}

TEST(PausedDaemon, OpensNoConnectionToTheCoordinator) {
  testing::TempDir tmp;
  const std::string pki = tmp.File("pki");
  const std::string dir = tmp.File("client");
  ASSERT_TRUE(coordinator::InitPkiFolder(pki, {"localhost", "127.0.0.1"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki, "laptop-1", 30).ok());
  CountingListener coordinator;
  ASSERT_GT(coordinator.port(), 0);
  ASSERT_TRUE(runtime::Enroll(dir, absl::StrCat("127.0.0.1:", coordinator.port()), pki + "/ca.crt",
                              pki + "/devices/laptop-1.crt", pki + "/devices/laptop-1.key", "")
                  .ok());
  // Something to train on, so the daemon means to check in.
  const auto generated =
      testing::Shell(absl::StrCat(testing::BinaryDir(), "/bin/tacit-client --dir '", dir,
                                  "' generate-activity --max-events 400 2>&1"));
  ASSERT_EQ(generated.second, 0) << generated.first;

  Daemon daemon(dir);
  // The check-in fails (no TLS on the other end): the daemon waits for the
  // coordinator to come back.
  ASSERT_TRUE(WaitUntil(30, [&] { return DaemonState(dir) == "backing off"; }))
      << testing::ReadAll(tmp.File("daemon.log"));
  ASSERT_GT(coordinator.accepted(), 0);

  ASSERT_TRUE(SaveControlState(dir, ControlState{false, true, 0}).ok());
  ASSERT_TRUE(WaitUntil(5, [&] { return DaemonState(dir) == "paused"; }))
      << testing::ReadAll(tmp.File("daemon.log"));
  const int at_pause = coordinator.accepted();
  std::this_thread::sleep_for(std::chrono::seconds(8));
  EXPECT_EQ(coordinator.accepted(), at_pause)
      << "connections to the coordinator while training was paused";

  // Resumed: it dials again (the listener would have seen the dials above).
  ASSERT_TRUE(SaveControlState(dir, ControlState{}).ok());
  EXPECT_TRUE(WaitUntil(15, [&] { return coordinator.accepted() > at_pause; }));
}

}  // namespace
}  // namespace tacit
