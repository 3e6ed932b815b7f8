// Eligibility from the desktop's own sources: the loginctl and busctl
// parsers on outputs captured from real systems, the command runner on real
// programs, and the order in which ReadDevice asks its sources.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "client/runtime/command_runner.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/os_sources.h"
#include "tests/client/hermetic_sources.h"

namespace tacit::runtime {
namespace {

using tacit::testing::HermeticSources;
using tacit::testing::TempDir;

// `loginctl show-user geoff` on a laptop with a graphical session (2) and an
// SSH session (4), as published with its outputs.
constexpr const char* kShowUser =
    "UID=1000\nGID=1000\nName=geoff\nTimestamp=Sat 2020-02-01 17:27:43 MST\n"
    "TimestampMonotonic=23966084\nRuntimePath=/run/user/1000\nService=user@1000.service\n"
    "Slice=user-1000.slice\nDisplay=2\nState=active\nSessions=4 2\nIdleHint=no\n"
    "IdleSinceHint=1580659420065201\nIdleSinceHintMonotonic=67539111506\nLinger=no\n";
// `loginctl show-session 4` of that SSH session.
constexpr const char* kShowSession =
    "Id=4\nUser=1000\nName=geoff\nTimestamp=Sun 2020-02-02 12:05:58 MST\n"
    "TimestampMonotonic=67119046169\nVTNr=0\nTTY=pts/3\nRemote=yes\nRemoteHost=::1\n"
    "Service=sshd\nScope=session-4.scope\nLeader=16779\nAudit=4\nType=tty\nClass=user\n"
    "Active=yes\nState=active\nIdleHint=no\nIdleSinceHint=1580670778717714\n"
    "IdleSinceHintMonotonic=67539111506\nLockedHint=no\n";
// An idle session (swayidle setting the hint; systemd issue 13596 logged
// IdleHint true, IdleSinceHint 1568862489873730), as loginctl prints it.
constexpr const char* kIdleSession = "IdleHint=yes\nIdleSinceHint=1568862489873730\n";
constexpr int64_t kIdleSince = 1568862489873730;
// What loginctl and busctl say on a machine without systemd (this one).
constexpr const char* kNoSystemd =
    "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
    "Failed to connect to bus: Host is down\n";

TEST(LogindParser, ReadsTheDisplaySessionAndItsIdleHint) {
  auto user = ParseProperties(kShowUser);
  EXPECT_EQ(user["Display"], "2");
  EXPECT_EQ(user["Sessions"], "4 2");
  EXPECT_EQ(user["Timestamp"], "Sat 2020-02-01 17:27:43 MST");
  EXPECT_EQ(ParseProperties("Display=\n")["Display"], "");  // no graphical session
  EXPECT_TRUE(ParseProperties(kNoSystemd).empty());

  // Not idle: 0, however long ago IdleSinceHint was.
  EXPECT_EQ(IdleMinutesFromLogind(kShowSession, 1580670778717714 + 3'600'000'000), 0);
  // Idle: whole minutes since the hint was set.
  EXPECT_EQ(IdleMinutesFromLogind(kIdleSession, kIdleSince + 17 * 60'000'000 + 30'000'000), 17);
  EXPECT_EQ(IdleMinutesFromLogind(kIdleSession, kIdleSince - 5'000'000), 0);  // clock stepped
  // Idle without a time, no hint, or nonsense: no answer (the next source).
  EXPECT_EQ(IdleMinutesFromLogind("IdleHint=yes\nIdleSinceHint=0\n", kIdleSince), std::nullopt);
  EXPECT_EQ(IdleMinutesFromLogind(kShowUser + std::string("IdleHint=maybe\n"), kIdleSince),
            std::nullopt);
  EXPECT_EQ(IdleMinutesFromLogind(kNoSystemd, kIdleSince), std::nullopt);
  EXPECT_EQ(IdleMinutesFromLogind("", kIdleSince), std::nullopt);
}

TEST(LogindParser, IdleMinutesForRandomTimes) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    const int64_t since = std::uniform_int_distribution<int64_t>(1, int64_t{2} << 50)(rng);
    const int64_t idle_us = std::uniform_int_distribution<int64_t>(0, int64_t{1} << 40)(rng);
    // Properties come in any order, with others around them.
    std::string text =
        absl::StrCat("LockedHint=no\nIdleSinceHint=", since, "\nType=wayland\nIdleHint=yes\n");
    ASSERT_EQ(IdleMinutesFromLogind(text, since + idle_us), idle_us / 60'000'000) << text;
  }
}

TEST(NetworkManagerParser, ReadsBusctlsMeteredReply) {
  // `busctl get-property org.freedesktop.NetworkManager ... Metered` prints
  // the D-Bus type and the value: "u 4" on a Wi-Fi NetworkManager guessed
  // to be unmetered.
  EXPECT_EQ(NetworkManagerMeteredValue("u 4\n"), 4);
  EXPECT_EQ(MeteredFromNetworkManager(4), Metered::kNo);
  EXPECT_EQ(MeteredFromNetworkManager(2), Metered::kNo);
  EXPECT_EQ(MeteredFromNetworkManager(1), Metered::kYes);
  EXPECT_EQ(MeteredFromNetworkManager(3), Metered::kYes);  // e.g. a phone's hotspot
  EXPECT_EQ(MeteredFromNetworkManager(0), Metered::kUnknown);
  EXPECT_STREQ(NetworkManagerMeteredName(3), "guessed yes");
  for (const char* bad : {"", "u", "u 7", "s \"yes\"", "u 1 2", "b true",
                          "Failed to connect to bus: No such file or directory"}) {
    EXPECT_EQ(NetworkManagerMeteredValue(bad), std::nullopt) << bad;
  }
}

TEST(CommandRunner, RunsTheProgramWithoutAShellAndInTheCLocale) {
  // Shell syntax reaches the program as plain text.
  auto echoed = RunCommand({"echo", "a;b", "$(id)", "|", "*"}, 10);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(echoed->exit_code, 0);
  EXPECT_EQ(echoed->output, "a;b $(id) | *\n");
  auto env = RunCommand({"env"}, 10);
  ASSERT_TRUE(env.ok());
  EXPECT_NE(env->output.find("LC_ALL=C\n"), std::string::npos);
  auto failed = RunCommand({"ls", "/no/such/path"}, 10);
  ASSERT_TRUE(failed.ok());
  EXPECT_NE(failed->exit_code, 0);
  EXPECT_NE(failed->errors.find("/no/such/path"), std::string::npos);
  EXPECT_TRUE(failed->output.empty());
  EXPECT_EQ(RunCommand({"tacit-no-such-program"}, 10).status().code(), absl::StatusCode::kNotFound);
}

TEST(CommandRunner, KillsAProgramThatOutlivesItsDeadline) {
  const auto start = std::chrono::steady_clock::now();
  auto slow = RunCommand({"sleep", "30"}, 0.3);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_LT(seconds, 5);
}

// A stand-in for an OS tool this machine lacks (no systemd here): a script
// printing the captured output and recording its arguments.
std::string Tool(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path =
      dir.Write(name, "#!/bin/sh\necho \"$@\" >> " + dir.File(name + ".args") + "\n" + body + "\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(Eligibility, AsksLogindAndNetworkManagerFirstThenFallsBack) {
  TempDir dir;
  ReadingSources sources = HermeticSources(dir);
  // Neither tool: the terminals answer, the network is unknown.
  DeviceReadings fallback = ReadDevice({}, sources);
  EXPECT_EQ(fallback.idle_minutes, 24 * 60);  // no terminal at all
  EXPECT_NE(fallback.idle_source.find("terminal access times"), std::string::npos)
      << fallback.idle_source;
  EXPECT_TRUE(fallback.unmetered_network);
  EXPECT_NE(fallback.network_source.find("unknown, counted as unmetered"), std::string::npos)
      << fallback.network_source;
  ReadingOverrides cautious;
  cautious.unknown_network_is_metered = true;
  EXPECT_FALSE(ReadDevice(cautious, sources).unmetered_network);

  // Tools that fail the way they do without systemd: still the fallbacks.
  sources.loginctl =
      Tool(dir, "loginctl-down", "echo \"" + std::string(kNoSystemd) + "\" >&2; exit 1");
  sources.busctl = Tool(dir, "busctl-down", "echo 'Failed to connect to bus' >&2; exit 1");
  DeviceReadings down = ReadDevice({}, sources);
  EXPECT_NE(down.idle_source.find("not been booted with systemd"), std::string::npos)
      << down.idle_source;
  EXPECT_TRUE(down.unmetered_network);

  // Both answer: logind's idle session, NetworkManager's guess.
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  sources.loginctl =
      Tool(dir, "loginctl",
           absl::StrCat("case \"$1\" in show-user) echo 'Display=7' ;; "
                        "show-session) printf 'IdleHint=yes\\nIdleSinceHint=",
                        now_us - int64_t{42} * 60'000'000 - 1'000'000, "\\n' ;; esac"));
  sources.busctl = Tool(dir, "busctl", "echo 'u 3'");
  DeviceReadings desktop = ReadDevice({}, sources);
  EXPECT_EQ(desktop.idle_minutes, 42);
  EXPECT_EQ(desktop.idle_source, "logind session 7 IdleHint");
  EXPECT_FALSE(desktop.unmetered_network);
  EXPECT_EQ(desktop.network_source, "NetworkManager Metered = guessed yes");
  std::ifstream args(dir.File("loginctl.args"));
  std::string show_user, show_session;
  std::getline(args, show_user);
  std::getline(args, show_session);
  EXPECT_EQ(show_user, absl::StrCat("show-user ", ::getuid(), " --property=Display"));
  EXPECT_EQ(show_session, "show-session 7 --property=IdleHint --property=IdleSinceHint");

  // Overrides win over every source.
  ReadingOverrides owner;
  owner.idle_minutes = 3;
  owner.unmetered_network = true;
  DeviceReadings overridden = ReadDevice(owner, sources);
  EXPECT_EQ(overridden.idle_minutes, 3);
  EXPECT_EQ(overridden.idle_source, "override (--idle-minutes)");
  EXPECT_TRUE(overridden.unmetered_network);
  nlohmann::json json = ReadingsToJson(desktop);
  EXPECT_EQ(json["idle_source"], "logind session 7 IdleHint");
  EXPECT_EQ(json["unmetered_network"], false);
}

}  // namespace
}  // namespace tacit::runtime
