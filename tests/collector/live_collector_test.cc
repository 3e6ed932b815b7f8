// The real collector (`tacit-client collect`) on a real X server: Xvfb,
// openbox, xdotool. What reaches the encrypted store is read back through
// EventStore (decrypted) and the store's files are scanned byte by byte.

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "client/collector/heartbeat.h"
#include "client/collector/shell_event.h"
#include "client/store/event_store.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/collector/stored_events.h"
#include "tests/collector/x_session.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"

namespace tacit {
namespace {

using ::tacit::testing::KeyboardGrabber;
using ::tacit::testing::XSession;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Random lower-case letters, new each run: found anywhere, they leaked.
std::string Canary(size_t length) {
  std::random_device seed;
  std::mt19937 rng(seed());
  std::string s;
  for (size_t i = 0; i < length; ++i) s += static_cast<char>('a' + rng() % 26);
  return s;
}

class LiveCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* program : {"Xvfb", "openbox", "xdotool"}) {
      if (!testing::OnPath(program)) {
        GTEST_SKIP() << program << " is not installed; scripts/setup installs it (CI has it)";
      }
    }
    const std::string problem = x_.Start();
    ASSERT_EQ(problem, "");
  }
  void TearDown() override { StopCollector(); }

  std::string Client() const { return ::tacit::testing::BinaryDir() + "/bin/tacit-client"; }

  void StartCollector() {
    collector_ = testing::Spawn(
        {Client(), "--dir", dir_.path(), "collect", "--batch-seconds", "0.5"}, x_.Env());
    ASSERT_GT(collector_, 0);
    // Ready once it wrote its first heartbeat.
    const std::string beat = dir_.File(collector::kHeartbeatFile);
    for (int waited = 0; waited < 10000 && !std::ifstream(beat).good(); waited += 20) SleepMs(20);
    ASSERT_TRUE(std::ifstream(beat).good()) << "the collector wrote no heartbeat within 10 s";
  }
  // SIGTERM: the collector writes what it holds and exits 0.
  void StopCollector() {
    if (collector_ <= 0) return;
    const int status = testing::Stop(collector_, /*grace_ms=*/10000);
    collector_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  // Until the heartbeat satisfies `done` (at most 10 s; the collector may be
  // slow to get the CPU on a loaded machine).
  template <typename Done>
  bool WaitForBeat(Done done) {
    for (int waited = 0; waited < 10000; waited += 50) {
      auto beat = collector::ReadHeartbeat(dir_.path());
      if (beat.ok() && done(*beat)) return true;
      SleepMs(50);
    }
    return false;
  }
  bool WaitForStored(int64_t n) {
    return WaitForBeat([n](const collector::Heartbeat& b) { return b.events_stored >= n; });
  }
  std::vector<Event> Stored() { return testing::StoredEvents(dir_.path()); }
  static std::vector<Event> OfKind(const std::vector<Event>& events, EventKind kind) {
    std::vector<Event> out;
    for (const Event& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  // `secret` in no decrypted field and in no byte of the store's files.
  void ExpectNowhere(const std::string& secret) {
    for (const Event& e : Stored()) {
      for (const std::string* field : {&e.app, &e.chord, &e.command}) {
        EXPECT_EQ(field->find(secret), std::string::npos) << "stored: " << *field;
      }
    }
    const std::string db = dir_.File(EventStore::kDatabaseFile);
    for (const std::string& path : {db, db + "-wal", dir_.File(collector::kHeartbeatFile)}) {
      EXPECT_EQ(testing::ReadAll(path).find(secret), std::string::npos) << "in " << path;
    }
  }

  XSession x_;
  testing::TempDir dir_;
  pid_t collector_ = -1;
};

TEST_F(LiveCollectorTest, TypingStoresKeyClassesNeverTheText) {
  const std::string text = Canary(24), title = "title-" + Canary(16);
  const Window editor = x_.MakeWindow("TacitEditor", title);
  StartCollector();
  ASSERT_TRUE(x_.Activate(editor));
  ASSERT_TRUE(x_.Type(text));
  SleepMs(300);
  StopCollector();
  const std::vector<Event> events = Stored();
  const std::vector<Event> presses = OfKind(events, EventKind::kKeyPress);
  ASSERT_EQ(presses.size(), text.size());
  for (const Event& e : presses) EXPECT_EQ(e.key_class, KeyClass::kLetter);
  EXPECT_EQ(OfKind(events, EventKind::kKeyRelease).size(), text.size());
  ExpectNowhere(text);
  ExpectNowhere(title);
}

TEST_F(LiveCollectorTest, AppSwitchesStoreClassesNeverTitles) {
  const std::string title_a = "alpha-" + Canary(16), title_b = "beta-" + Canary(16);
  const Window a = x_.MakeWindow("TacitAlpha", title_a);
  const Window b = x_.MakeWindow("TacitBeta", title_b);
  StartCollector();
  for (Window w : {a, b, a}) {
    ASSERT_TRUE(x_.Activate(w));
    ASSERT_TRUE(x_.Type("ab"));
  }
  SleepMs(300);
  StopCollector();
  std::vector<std::string> apps;
  for (const Event& e : OfKind(Stored(), EventKind::kAppFocus)) apps.push_back(e.app);
  // The switches in order (the window last focused before the collector
  // started may come first).
  std::vector<std::string> tail(apps.end() - std::min<size_t>(apps.size(), 3), apps.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"tacitalpha", "tacitbeta", "tacitalpha"}))
      << "all switches: " << ::testing::PrintToString(apps);
  ExpectNowhere(title_a);
  ExpectNowhere(title_b);
}

TEST_F(LiveCollectorTest, DeniedAppStoresNothingWhileFocused) {
  dir_.Write("privacy_policy.json", R"({"app_mode": "deny_list", "deny_apps": ["TacitVault"]})");
  const Window notes = x_.MakeWindow("TacitNotes", "notes");
  const Window vault = x_.MakeWindow("TacitVault", "vault");
  StartCollector();
  const std::string secret = Canary(20);
  ASSERT_TRUE(x_.Activate(notes));
  ASSERT_TRUE(x_.Type("ab"));
  // Stored before the switch: what still waits for the next grab check when a
  // denied app gets the focus is dropped (it may have been typed into that app).
  ASSERT_TRUE(WaitForStored(4));
  ASSERT_TRUE(x_.Activate(vault));
  ASSERT_TRUE(x_.Type(secret));
  ASSERT_TRUE(x_.Activate(notes));
  ASSERT_TRUE(x_.Type("cd"));
  SleepMs(300);
  StopCollector();
  const std::vector<Event> events = Stored();
  EXPECT_EQ(OfKind(events, EventKind::kKeyPress).size(), 4u) << "only the keys typed in notes";
  for (const Event& e : OfKind(events, EventKind::kAppFocus)) EXPECT_NE(e.app, "tacitvault");
  auto beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_GE(beat->dropped_by_app, 2 * static_cast<int64_t>(secret.size()))
      << "the vault's presses, releases and its focus event";
}

// In an X session the shell hook's names take the same path as keys: they
// are judged by the app in focus, so a denied app in focus stores none.
TEST_F(LiveCollectorTest, ShellCommandsCarryTheFocusedAppAndObeyTheDenyList) {
  dir_.Write("privacy_policy.json", R"({"app_mode": "deny_list", "deny_apps": ["TacitVault"]})");
  const Window terminal = x_.MakeWindow("TacitTerm", "terminal");
  const Window vault = x_.MakeWindow("TacitVault", "vault");
  StartCollector();
  const std::string sender = ::tacit::testing::BinaryDir() + "/bin/tacit-shell-event";
  const std::string socket = dir_.File(collector::kShellSocketFile);
  ASSERT_TRUE(x_.Activate(terminal));
  SleepMs(300);
  ASSERT_EQ(testing::RunToEnd({sender, socket, "file", "make"}, {}), 0);
  ASSERT_TRUE(WaitForBeat([](const collector::Heartbeat& b) { return b.shell_commands == 1; }));
  ASSERT_TRUE(x_.Activate(vault));
  SleepMs(300);
  ASSERT_EQ(testing::RunToEnd({sender, socket, "file", "gpg"}, {}), 0);
  ASSERT_TRUE(WaitForBeat([](const collector::Heartbeat& b) { return b.shell_commands == 2; }));
  SleepMs(700);  // past the next grab check
  StopCollector();
  const std::vector<Event> commands = OfKind(Stored(), EventKind::kShellCommand);
  ASSERT_EQ(commands.size(), 1u) << "gpg ran while the denied app had the focus";
  EXPECT_EQ(commands[0].command, "make");
  EXPECT_GE(collector::ReadHeartbeat(dir_.path())->dropped_by_app, 1) << "gpg, counted";
}

TEST_F(LiveCollectorTest, KeyboardGrabbedByAnotherClientStoresNothing) {
  const Window notes = x_.MakeWindow("TacitNotes", "notes");
  StartCollector();
  ASSERT_TRUE(x_.Activate(notes));
  const std::string password = Canary(20);
  {
    KeyboardGrabber prompt(x_.display_name());
    ASSERT_TRUE(prompt.Grab());
    ASSERT_TRUE(x_.Type(password));  // goes to the grabbing prompt
    ASSERT_TRUE(WaitForBeat([](const collector::Heartbeat& b) { return b.keyboard_grabbed; }));
    auto beat = collector::ReadHeartbeat(dir_.path());
    ASSERT_TRUE(beat.ok()) << beat.status();
    EXPECT_NE(beat->collecting.find("another program holds the keyboard"), std::string::npos)
        << beat->collecting;
    prompt.Release();
  }
  // A clean check after the release (the one that saw the grab end drops
  // what waited for it, so typing starts after it).
  ASSERT_TRUE(WaitForBeat([](const collector::Heartbeat& b) { return !b.keyboard_grabbed; }));
  ASSERT_TRUE(x_.Type("zz"));
  SleepMs(700);
  StopCollector();
  EXPECT_EQ(OfKind(Stored(), EventKind::kKeyPress).size(), 2u)
      << "only the two keys typed after the grab ended";
  auto beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_GE(beat->dropped_keyboard_grab, 2 * static_cast<int64_t>(password.size()));
}

TEST_F(LiveCollectorTest, PauseStopsCollectionWithinASecond) {
  const Window notes = x_.MakeWindow("TacitNotes", "notes");
  StartCollector();
  ASSERT_TRUE(x_.Activate(notes));
  ASSERT_TRUE(x_.Type("ab"));
  ASSERT_EQ(testing::RunToEnd({Client(), "--dir", dir_.path(), "pause", "--collection"}, {}), 0);
  SleepMs(1000);
  const int64_t paused_from = NowMs();
  ASSERT_TRUE(x_.Type(Canary(12)));
  const int64_t paused_to = NowMs();
  auto beat = collector::ReadHeartbeat(dir_.path());
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_TRUE(beat->paused);
  auto [status, status_code] = testing::Shell(Client() + " --dir '" + dir_.path() + "' status");
  EXPECT_EQ(status_code, 0) << status;
  EXPECT_NE(status.find("collecting now: nothing: collection is paused"), std::string::npos)
      << status;
  ASSERT_EQ(testing::RunToEnd({Client(), "--dir", dir_.path(), "resume", "--collection"}, {}), 0);
  ASSERT_TRUE(WaitForBeat([](const collector::Heartbeat& b) { return !b.paused; }));
  ASSERT_TRUE(x_.Type("cd"));
  SleepMs(300);
  StopCollector();
  const std::vector<Event> presses = OfKind(Stored(), EventKind::kKeyPress);
  EXPECT_EQ(presses.size(), 4u) << "ab before the pause and cd after the resume";
  for (const Event& e : presses) {
    EXPECT_FALSE(e.time_ms >= paused_from && e.time_ms <= paused_to) << e.time_ms;
  }
}

}  // namespace
}  // namespace tacit
