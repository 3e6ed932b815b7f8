// The shell hook end to end, without an X display: the real `tacit-client
// collect` (shell command names only), a real `bash -i` whose rc file holds
// what `tacit-client shell-hook bash` printed, and commands with arguments,
// assignments and secrets typed into it. The store is read back through
// EventStore, and its files are scanned byte by byte for the secrets.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "client/collector/heartbeat.h"
#include "client/collector/shell_event.h"
#include "client/collector/shell_hook_snippet.h"
#include "client/store/event_store.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/collector/stored_events.h"
#include "tests/collector/x_session.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"

namespace tacit {
namespace {

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Letters and digits, new each run, shaped like a token: found anywhere, they leaked.
std::string Secret(size_t length) {
  std::random_device seed;
  std::mt19937 rng(seed());
  const std::string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s = "Q7";
  while (s.size() < length) s += chars[rng() % chars.size()];
  return s;
}

class ShellHookLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::OnPath("bash")) GTEST_SKIP() << "bash is not installed";
  }
  void TearDown() override {
    if (collector_ > 0) testing::Stop(collector_, 10000);
  }
  std::string Bin() const { return ::tacit::testing::BinaryDir() + "/bin/"; }

  // The collector with no display at all (`env -u`: the test may run under X).
  void StartCollector(const std::vector<std::string>& env_args) {
    std::vector<std::string> argv = {"env", "-u", "DISPLAY", "-u", "WAYLAND_DISPLAY"};
    argv.insert(argv.end(), env_args.begin(), env_args.end());
    argv.insert(argv.end(), {Bin() + "tacit-client", "--dir", dir_.path(), "collect",
                             "--batch-seconds", "0.5"});
    collector_ = testing::Spawn(argv, {});
    ASSERT_GT(collector_, 0);
    for (int waited = 0; waited < 10000; waited += 20) {
      auto beat = collector::ReadHeartbeat(dir_.path());
      if (beat.ok() && beat->running) return;
      SleepMs(20);
    }
    FAIL() << "the collector wrote no heartbeat within 10 s";
  }
  int StopCollector() {
    const int status = testing::Stop(collector_, 10000);
    collector_ = -1;
    return status;
  }
  std::vector<Event> Stored() { return testing::StoredEvents(dir_.path()); }

  // Types commands with arguments, assignments and secrets into a real
  // `bash -i` (or `zsh -i`) whose rc file holds `hook`; the secrets.
  std::vector<std::string> TypeIntoShell(const std::string& hook,
                                         const std::string& shell = "bash") {
    home_.Write(shell == "bash" ? ".bashrc" : ".zshrc",
                "alias tacitalias=true\ntacitfn() { :; }\n" + hook);
    const std::vector<std::string> secrets = {Secret(20), Secret(20), Secret(20),
                                              Secret(20), Secret(20), Secret(12)};
    const std::string assignment = "TACIT_SECRET_" + secrets[5];
    // What the owner types, and the names that may be stored, in order.
    const std::string typed = "ls -la /tmp/" + secrets[0] +
                              "\n"
                              "TOKEN=" +
                              secrets[1] + " true --password\n" + assignment + "=" + secrets[2] +
                              "\n"
                              "echo " +
                              secrets[3] +
                              " >/dev/null\n"
                              // a password typed at the prompt: no such command
                              " \n" +
                              secrets[4] +
                              "\n"
                              "tacitalias " +
                              secrets[0] +
                              "\n"
                              "tacitfn " +
                              secrets[1] +
                              "\n"
                              "grep -q --regexp=" +
                              secrets[2] +
                              " /dev/null\n"
                              "exit\n";
    home_.Write("typed", typed);
    // History from an earlier session is never sent (it would come first).
    home_.Write(".history", "cat " + secrets[3] + "\n");
    auto [output, code] =
        testing::Shell("cd '" + home_.path() + "' && env -i HOME='" + home_.path() + "' ZDOTDIR='" +
                       home_.path() + "' PATH=/usr/bin:/bin TERM=dumb HISTFILE='" + home_.path() +
                       "/.history' " + shell + " -i < typed");
    EXPECT_EQ(code, 1) << output;  // grep found nothing; no error from the hook
    for (const char* trace : {"__tacit", "tacit-shell-event", "shell.sock"}) {
      EXPECT_EQ(output.find(trace), std::string::npos) << "the hook must print nothing: " << output;
    }

    return secrets;
  }

  // The datagrams the `shell` snippet sent while TypeIntoShell ran.
  std::vector<std::string> Sent(const std::string& shell) {
    const std::string path = dir_.File("raw.sock");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    EXPECT_LT(path.size(), sizeof address.sun_path);
    std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    auto hook = collector::ShellHookSnippet(shell, Bin() + "tacit-shell-event", path);
    EXPECT_TRUE(hook.ok()) << hook.status();
    TypeIntoShell(hook.ok() ? *hook : "", shell);
    std::vector<std::string> sent;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) >= 0;) {
      sent.emplace_back(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return sent;
  }

  testing::TempDir dir_, home_;
  pid_t collector_ = -1;
};

TEST_F(ShellHookLiveTest, StoresCommandNamesNeverArgumentsAssignmentsOrSecrets) {
  StartCollector({});
  auto beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->collecting, "shell command names only (no X display)");
  EXPECT_NE(beat->note.find("only shell command names"), std::string::npos) << beat->note;
  EXPECT_TRUE(beat->shell_listening);

  auto [hook, hook_code] = testing::Shell(Bin() + "tacit-client --dir '" + dir_.path() +
                                          "' shell-hook bash 2>/dev/null");
  ASSERT_EQ(hook_code, 0) << hook;
  const std::vector<std::string> secrets = TypeIntoShell(hook);
  // Stored within a batch (0.5 s) of the commands.
  for (int waited = 0; waited < 10000; waited += 50) {
    beat = collector::ReadHeartbeat(dir_.path());
    if (beat.ok() && beat->events_stored >= 6) break;
    SleepMs(50);
  }
  const int exit_status = StopCollector();
  ASSERT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0) << exit_status;
  std::vector<std::string> commands;
  for (const Event& e : Stored()) {
    EXPECT_EQ(e.kind, EventKind::kShellCommand);
    commands.push_back(e.command);
  }
  EXPECT_EQ(commands,
            (std::vector<std::string>{"ls", "true", "echo", "tacitalias", "tacitfn", "grep"}));
  beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->shell_commands, 6);
  EXPECT_EQ(beat->shell_refused_peer, 0);
  const std::string db = dir_.File(EventStore::kDatabaseFile);
  for (const std::string& secret : secrets) {
    for (const std::string& path : {db, db + "-wal", dir_.File(collector::kHeartbeatFile)}) {
      EXPECT_EQ(testing::ReadAll(path).find(secret), std::string::npos) << "in " << path;
    }
  }
  EXPECT_EQ(testing::ReadAll(db).find("TACIT_SECRET"), std::string::npos);
}

// What the snippet itself sends, read from a bare socket that checks
// nothing: the collector's checks and the privacy filter are later defences,
// the snippet must not need them.
TEST_F(ShellHookLiveTest, TheBashSnippetSendsOnlyKindAndName) {
  EXPECT_EQ(Sent("bash"),
            (std::vector<std::string>{"file ls", "builtin true", "builtin echo", "alias tacitalias",
                                      "function tacitfn", "file grep"}));
}

// zsh runs preexec for `exit` as well. Skipped where zsh is not installed
// (scripts/setup installs it).
TEST_F(ShellHookLiveTest, TheZshSnippetSendsOnlyKindAndName) {
  if (!testing::OnPath("zsh")) GTEST_SKIP() << "zsh is not installed; scripts/setup installs it";
  EXPECT_EQ(Sent("zsh"),
            (std::vector<std::string>{"file ls", "builtin true", "builtin echo", "alias tacitalias",
                                      "function tacitfn", "file grep", "builtin exit"}));
}

TEST_F(ShellHookLiveTest, PauseStopsShellCommandsToo) {
  StartCollector({});
  ASSERT_EQ(testing::RunToEnd(
                {Bin() + "tacit-client", "--dir", dir_.path(), "pause", "--collection"}, {}),
            0);
  SleepMs(600);  // the collector checks the control file every 250 ms
  const std::string sender = Bin() + "tacit-shell-event";
  const std::string socket = dir_.File(collector::kShellSocketFile);
  ASSERT_EQ(testing::RunToEnd({sender, socket, "file", "ls"}, {}), 0);
  SleepMs(300);
  ASSERT_EQ(testing::RunToEnd(
                {Bin() + "tacit-client", "--dir", dir_.path(), "resume", "--collection"}, {}),
            0);
  SleepMs(600);
  ASSERT_EQ(testing::RunToEnd({sender, socket, "file", "make"}, {}), 0);
  SleepMs(300);
  StopCollector();
  const std::vector<Event> events = Stored();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].command, "make");
  auto beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->dropped_paused, 1);
}

TEST_F(ShellHookLiveTest, WaylandWithoutXSaysWhatItCannotSee) {
  StartCollector({"WAYLAND_DISPLAY=wayland-0"});
  auto beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->collecting, "shell command names only (no X display)");
  EXPECT_NE(beat->note.find("Wayland lets no program see other apps' keys"), std::string::npos)
      << beat->note;
  auto [status, code] = testing::Shell(Bin() + "tacit-client --dir '" + dir_.path() + "' status");
  EXPECT_NE(status.find("shell hook: 0 command names received"), std::string::npos) << status;
  const int exit_status = StopCollector();
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0) << exit_status;
}

TEST(CollectorWithoutX, ANamedDisplayThatDoesNotAnswerIsAnError) {
  testing::TempDir dir;
  // A display nobody serves (the abstract socket and /tmp/.X11-unix are unused there).
  auto [absent, absent_code] =
      testing::Shell("env -u WAYLAND_DISPLAY " + ::tacit::testing::BinaryDir() +
                     "/bin/tacit-client --dir '" + dir.path() + "' collect --display :4999");
  EXPECT_EQ(absent_code, 2) << absent;
  EXPECT_NE(absent.find("cannot open the X display ':4999'"), std::string::npos) << absent;
}

}  // namespace
}  // namespace tacit
