// The employee's everyday commands (issue 19), run as the real
// build/bin/tacit-client: import while paused, erase in local time, leave,
// audit and status.

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "client/control_state.h"
#include "client/runtime/audit_log.h"
#include "client/runtime/privacy_ledger.h"
#include "client/store/event_store.h"
#include "common/file_io.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "task/task_config.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

// `env` prefixes the command (e.g. "TZ=Asia/Kolkata"); stdin is /dev/null,
// as under systemd or a script.
std::pair<std::string, int> Client(const std::string& dir, const std::string& args,
                                   const std::string& env = "") {
  return testing::Shell(absl::StrCat(env, env.empty() ? "" : " ", testing::BinaryDir(),
                                     "/bin/tacit-client --dir '", dir, "' ", args,
                                     " </dev/null 2>&1"));
}

bool Has(const std::pair<std::string, int>& run, const std::string& text) {
  return run.first.find(text) != std::string::npos;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

int64_t StoredEvents(const std::string& dir) {
  auto store = EventStore::OpenInDirectory(dir);
  if (!store.ok()) return -1;
  auto events = (*store)->Read(TimeRange{});
  return events.ok() ? static_cast<int64_t>(events->size()) : -1;
}

std::string ImportOne(testing::TempDir& tmp) {
  return tmp.Write("one.jsonl", R"({"t":1577836800000,"kind":"key_press","key":"a"})"
                                "\n");
}

// Pausing collection stops imports too, unless the owner says --force; a
// damaged control file counts as paused, as the collector counts it.
TEST(EmployeeCli, ImportRefusesWhileCollectionIsPausedUnlessForced) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  const std::string file = ImportOne(tmp);
  ASSERT_EQ(Client(dir, "pause --collection").second, 0);
  auto refused = Client(dir, "import --times now --format jsonl " + file);
  EXPECT_EQ(refused.second, 1) << refused.first;
  EXPECT_TRUE(Has(refused, "collection is paused")) << refused.first;
  EXPECT_TRUE(Has(refused, "--force")) << refused.first;
  EXPECT_EQ(StoredEvents(dir), 0);

  auto forced = Client(dir, "import --force --times now --format jsonl " + file);
  EXPECT_EQ(forced.second, 0) << forced.first;
  EXPECT_EQ(StoredEvents(dir), 1);

  tmp.Write("client/control.json", "{broken");
  EXPECT_EQ(Client(dir, "import --times now --format jsonl " + file).second, 1);
  EXPECT_EQ(StoredEvents(dir), 1);
  ASSERT_TRUE(SaveControlState(dir, ControlState{}).ok());
  EXPECT_EQ(Client(dir, "import --times now --format jsonl " + file).second, 0);
  EXPECT_EQ(StoredEvents(dir), 2);
}

// "How this laptop's clock reads `ms` in `zone`", from libc directly: the
// test's own rendering, independent of the code under test.
std::string LocalText(const std::string& zone, int64_t ms) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TZ", zone.c_str(), 1);
  ::tzset();
  const auto seconds = static_cast<time_t>(ms / 1000);
  struct tm local {};
  localtime_r(&seconds, &local);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local);
  if (old != nullptr) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  return text;
}

// erase --before/--after take the laptop's local time (and explicit
// offsets): events one minute apart, a cut at a random minute, in a random
// zone; exactly the events before (after) the cut go, and the output names
// the interval in local time.
TEST(EmployeeCli, EraseTakesLocalTimeAndExplicitOffsets) {
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  const std::vector<std::string> zones = {"America/New_York", "Asia/Kolkata", "Europe/Berlin",
                                          "Pacific/Chatham", "UTC"};
  for (int trial = 0; trial < 2; ++trial) {
    const std::string zone = zones[rng() % zones.size()];
    SCOPED_TRACE(zone);
    testing::TempDir tmp;
    const std::string dir = tmp.File("client");
    // Whole minutes, from two days ago (inside the retention window).
    const int64_t minute = 60'000;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const int64_t start = (now / minute - 2 * 24 * 60) * minute;
    const int count = 20 + static_cast<int>(rng() % 100);
    {
      auto store = EventStore::OpenInDirectory(dir);
      ASSERT_TRUE(store.ok()) << store.status();
      std::vector<Event> events(static_cast<size_t>(count));
      for (int i = 0; i < count; ++i) events[static_cast<size_t>(i)].time_ms = start + i * minute;
      ASSERT_TRUE((*store)->Append(events).ok());
    }
    const int cut = 1 + static_cast<int>(rng() % static_cast<uint32_t>(count - 1));
    const int64_t cut_ms = start + cut * minute;
    const std::string local = LocalText(zone, cut_ms);
    auto erased = Client(dir, "erase --before '" + local + "'", "TZ=" + zone);
    ASSERT_EQ(erased.second, 0) << erased.first;
    EXPECT_TRUE(Has(erased, absl::StrCat("Erased ", cut, " events"))) << erased.first;
    EXPECT_TRUE(Has(erased, "until " + local)) << erased.first;
    EXPECT_TRUE(Has(erased, "(local time)")) << erased.first;
    EXPECT_EQ(StoredEvents(dir), count - cut);
    // The same instant with an explicit offset, read in another zone.
    const int offset_minutes = static_cast<int>(rng() % (14 * 60)) * (rng() % 2 == 0 ? 1 : -1);
    // The clock at offset O reads UTC's reading of (instant + O).
    const int64_t later_cut = cut_ms + 20 * minute;
    const std::string shifted = LocalText("UTC", later_cut + int64_t{offset_minutes} * minute);
    const int expected_later = static_cast<int>(std::min<int64_t>(count, cut + 20)) - cut;
    const std::string with_offset =
        absl::StrCat(shifted, offset_minutes < 0 ? " -" : " +",
                     absl::Dec(std::abs(offset_minutes) / 60, absl::kZeroPad2), ":",
                     absl::Dec(std::abs(offset_minutes) % 60, absl::kZeroPad2));
    auto offset = Client(dir, "erase --before '" + with_offset + "'", "TZ=Asia/Tokyo");
    ASSERT_EQ(offset.second, 0) << offset.first << " for " << with_offset;
    EXPECT_TRUE(Has(offset, absl::StrCat("Erased ", expected_later, " events"))) << offset.first;
    EXPECT_EQ(StoredEvents(dir), count - cut - expected_later);
  }
  testing::TempDir tmp;
  EXPECT_EQ(Client(tmp.File("c"), "erase --before '2026-11-30 25:00'").second, 1);
  EXPECT_EQ(Client(tmp.File("c"), "erase --before '2026-11-30 14:00 +99:00'").second, 1);
}

// erase --all says what it cannot reach and what it leaves.
TEST(EmployeeCli, EraseAllSaysWhatRemainsAndHowToRemoveIt) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  ASSERT_EQ(Client(dir, "import --times now --format jsonl " + ImportOne(tmp)).second, 0);
  auto erase = Client(dir, "erase --all");
  ASSERT_EQ(erase.second, 0) << erase.first;
  EXPECT_TRUE(Has(erase, "remain in the fleet's global model")) << erase.first;
  EXPECT_TRUE(Has(erase, "fleet identity")) << erase.first;
  EXPECT_TRUE(Has(erase, "the global model")) << erase.first;
  EXPECT_TRUE(Has(erase, "audit log")) << erase.first;
  EXPECT_TRUE(Has(erase, "tacit-client leave")) << erase.first;

  // Generated events: the marker goes with them, and inspect no longer
  // calls the (refilled) store synthetic.
  auto generated = Client(dir, "generate-activity --max-events 50");
  ASSERT_EQ(generated.second, 0) << generated.first;
  ASSERT_TRUE(Exists(dir + "/" + kSyntheticMarkerFile));
  ASSERT_EQ(Client(dir, "erase --all").second, 0);
  EXPECT_FALSE(Exists(dir + "/" + kSyntheticMarkerFile));
  ASSERT_EQ(Client(dir, "import --times now --format jsonl " + ImportOne(tmp)).second, 0);
  auto inspect = Client(dir, "inspect");
  EXPECT_EQ(inspect.second, 0) << inspect.first;
  EXPECT_FALSE(Has(inspect, "SYNTHETIC")) << inspect.first;
}

// A client folder as enrollment, import and a few rounds leave it; leave
// reads none of the fleet files' contents but fleet.json.
void FillClientFolder(testing::TempDir& tmp, const std::string& dir) {
  ASSERT_EQ(Client(dir, "import --times now --format jsonl " + ImportOne(tmp)).second, 0);
  ASSERT_TRUE(MakeDirectories(dir + "/fleet", 0700).ok());
  ASSERT_TRUE(MakeDirectories(dir + "/model", 0700).ok());
  tmp.Write("client/fleet/fleet.json",
            R"({"coordinator":"127.0.0.1:1","device_id":"laptop-7","server_name":""})");
  for (const char* name : {"ca.crt", "device.crt", "secagg.cred"}) {
    tmp.Write(std::string("client/fleet/") + name, "-----BEGIN CERTIFICATE-----\n");
  }
  tmp.Write("client/fleet/device.key", "-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n");
  ASSERT_EQ(::chmod((dir + "/fleet/device.key").c_str(), 0600), 0);
  tmp.Write("client/model/global.model", std::string(4096, 'm'));
  tmp.Write(std::string("client/") + kSyntheticMarkerFile,
            R"({"generated":1,"stored":1,"persona":"dev","first_ms":0,"last_ms":0})");
  runtime::AuditEntry joined;
  joined.task = "integration";
  joined.round = 1;
  joined.sent = {{"advertise_keys", 70}};
  joined.outcome = "committed";
  joined.rpc.Count(runtime::kRpcSubmit, 70, 2);
  ASSERT_TRUE(runtime::AppendAudit(dir, joined).ok());
  ASSERT_TRUE(runtime::AppendAudit(dir, joined).ok());
}

// leave: unenrolls (key files overwritten, then deleted: a hard link made
// beforehand reads zeros afterwards), erases everything tacit wrote, keeps
// a copy of the audit log only when asked, leaves foreign files alone, says
// what cannot be undone; refuses while the daemon runs, and without a
// terminal unless --yes.
TEST(EmployeeCli, LeaveUnenrollsErasesEverythingAndSaysWhatCannotBeUndone) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  FillClientFolder(tmp, dir);
  const std::string audit = testing::ReadAll(dir + "/audit.log");
  ASSERT_FALSE(audit.empty());

  auto unasked = Client(dir, "leave");
  EXPECT_EQ(unasked.second, 1) << unasked.first;
  EXPECT_TRUE(Has(unasked, "--yes")) << unasked.first;
  EXPECT_TRUE(Exists(dir + "/fleet/device.key"));

  // A running daemon (this test's pid stands in for it): refused, nothing erased.
  tmp.Write("client/daemon.json", absl::StrCat(R"({"state":"waiting","pid":)", ::getpid(), "}"));
  auto running = Client(dir, "leave --yes");
  EXPECT_EQ(running.second, 1) << running.first;
  EXPECT_TRUE(Has(running, "tacit-client run (pid")) << running.first;
  EXPECT_TRUE(Exists(dir + "/fleet/device.key"));
  EXPECT_EQ(StoredEvents(dir), 1);
  tmp.Write("client/daemon.json", R"({"state":"stopped","pid":1})");

  // Hard links see what happens to the key files' bytes before the unlink.
  const std::string key_link = tmp.File("device.key.link");
  const std::string store_key_link = tmp.File("store.key.link");
  ASSERT_EQ(::link((dir + "/fleet/device.key").c_str(), key_link.c_str()), 0);
  ASSERT_EQ(::link((dir + "/store.key").c_str(), store_key_link.c_str()), 0);
  const size_t key_size = testing::ReadAll(key_link).size();
  tmp.Write("client/notes.txt", "mine");
  const std::string copy = tmp.File("kept-audit.log");

  auto leave = Client(dir, "leave --yes --keep-audit-log '" + copy + "'");
  ASSERT_EQ(leave.second, 0) << leave.first;
  EXPECT_TRUE(Has(leave, "device 'laptop-7'")) << leave.first;
  EXPECT_TRUE(Has(leave, "What cannot be undone: the 2 round(s)")) << leave.first;
  EXPECT_TRUE(Has(leave, "remain in it")) << leave.first;
  EXPECT_TRUE(Has(leave, "left in place (not written by tacit-client): " + dir + "/notes.txt"))
      << leave.first;
  for (const char* gone : {"fleet", "model", "events.db", "store.key", "audit.log", "control.json",
                           "daemon.json", "privacy_policy.json", kSyntheticMarkerFile}) {
    EXPECT_FALSE(Exists(dir + "/" + gone)) << gone << " survived leave";
  }
  EXPECT_TRUE(Exists(dir + "/notes.txt"));
  EXPECT_EQ(testing::ReadAll(copy), audit);
  EXPECT_EQ(testing::ReadAll(key_link), std::string(key_size, '\0'));
  EXPECT_EQ(testing::ReadAll(store_key_link),
            std::string(testing::ReadAll(store_key_link).size(), '\0'));
  EXPECT_FALSE(testing::ReadAll(store_key_link).empty());

  // Without --keep-audit-log the audit log goes too, and an emptied folder with it.
  testing::TempDir other;
  const std::string dir2 = other.File("client");
  FillClientFolder(other, dir2);
  auto plain = Client(dir2, "leave --yes");
  ASSERT_EQ(plain.second, 0) << plain.first;
  EXPECT_FALSE(Exists(dir2)) << "the emptied client folder remains";
  // The copy must not land in the folder it is erased with.
  testing::TempDir third;
  const std::string dir3 = third.File("client");
  FillClientFolder(third, dir3);
  auto inside = Client(dir3, "leave --yes --keep-audit-log '" + dir3 + "/copy.log'");
  EXPECT_EQ(inside.second, 1) << inside.first;
  EXPECT_TRUE(Exists(dir3 + "/fleet/device.key"));
}

// audit: per day and task, rounds joined, declined and failed, downloads,
// check-ins, bytes both ways, the noise level, and the epsilon from the
// ledger; --json has the same figures, --raw every line. Random logs,
// checked against sums kept here.
TEST(EmployeeCli, AuditSummarizesEveryExchangePerDayAndTask) {
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  ASSERT_TRUE(MakeDirectories(dir, 0700).ok());
  struct Sums {
    int64_t joined = 0, declined = 0, failed = 0, downloads = 0, check_ins = 0, up = 0, down = 0;
  };
  std::map<std::string, Sums> expected;  // by task; "" for check-in bursts
  const int lines = 5 + static_cast<int>(rng() % 30);
  for (int i = 0; i < lines; ++i) {
    auto bytes = [&] { return static_cast<int64_t>(rng() % 100000); };
    if (rng() % 4 == 0) {
      runtime::CheckInBurst burst;
      const int calls = 1 + static_cast<int>(rng() % 5);
      for (int c = 0; c < calls; ++c) burst.rpc.Count(runtime::kRpcCheckIn, bytes(), bytes());
      ASSERT_TRUE(runtime::AppendCheckInBurst(dir, burst).ok());
      Sums& s = expected[""];
      s.check_ins += calls;
      s.up += burst.rpc.up();
      s.down += burst.rpc.down();
      continue;
    }
    runtime::AuditEntry entry;
    entry.task = rng() % 2 == 0 ? "next-command" : "next-app";
    entry.noise_multiplier = entry.task == "next-app" ? 0.8 : 1.1;
    entry.round = i;
    entry.rpc.Count(runtime::kRpcCheckIn, bytes(), bytes());
    Sums& s = expected[entry.task];
    ++s.check_ins;
    switch (rng() % 4) {
      case 0:
        entry.outcome = "refused: the cohort is below 4";
        ++s.declined;
        break;
      case 1:
        entry.outcome = "left: model download failed: unavailable";
        entry.rpc.Count(runtime::kRpcDownloadModel, bytes(), bytes());
        ++s.downloads;
        ++s.failed;
        break;
      default:
        entry.outcome = "committed";
        entry.rpc.Count(runtime::kRpcDownloadModel, bytes(), bytes());
        entry.sent = {{"advertise_keys", 70}};
        entry.rpc.Count(runtime::kRpcSubmit, bytes(), bytes());
        ++s.downloads;
        ++s.joined;
    }
    s.up += entry.rpc.up();
    s.down += entry.rpc.down();
    ASSERT_TRUE(runtime::AppendAudit(dir, entry).ok());
  }
  // One participation in the ledger for next-command: its epsilon is shown.
  TaskConfig task;
  task.name = "next-command";
  task.dp.noise_multiplier = 1.1;
  task.dp.clip_norm = 1;
  ASSERT_TRUE(
      runtime::AppendParticipation(dir, runtime::ParticipationOf(task, 1, 1, 0, 0.5, -1)).ok());

  auto json_run = Client(dir, "audit --json");
  ASSERT_EQ(json_run.second, 0) << json_run.first;
  const nlohmann::json summary = nlohmann::json::parse(json_run.first);
  std::map<std::string, Sums> seen;
  for (const auto& row : summary["days"]) {
    Sums& s = seen[row["task"].get<std::string>()];
    s.joined += row["rounds_joined"].get<int64_t>();
    s.declined += row["rounds_declined"].get<int64_t>();
    s.failed += row["rounds_failed"].get<int64_t>();
    s.downloads += row["model_downloads"].get<int64_t>();
    s.check_ins += row["check_ins"].get<int64_t>();
    s.up += row["bytes_up"].get<int64_t>();
    s.down += row["bytes_down"].get<int64_t>();
    if (row["task"] == "next-command") {
      EXPECT_TRUE(row["epsilon_by_end_of_day"].is_number()) << row.dump();
      EXPECT_EQ(row["noise_multipliers"], nlohmann::json::array({1.1})) << row.dump();
    }
    if (row["task"] == "next-app") {
      EXPECT_TRUE(row["epsilon_by_end_of_day"].is_null());
    }
  }
  ASSERT_EQ(seen.size(), expected.size());
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE(name);
    const Sums& got = seen[name];
    EXPECT_EQ(got.joined, want.joined);
    EXPECT_EQ(got.declined, want.declined);
    EXPECT_EQ(got.failed, want.failed);
    EXPECT_EQ(got.downloads, want.downloads);
    EXPECT_EQ(got.check_ins, want.check_ins);
    EXPECT_EQ(got.up, want.up);
    EXPECT_EQ(got.down, want.down);
  }
  auto text = Client(dir, "audit");
  ASSERT_EQ(text.second, 0) << text.first;
  EXPECT_TRUE(Has(text, "joined")) << text.first;
  EXPECT_TRUE(Has(text, "total")) << text.first;
  for (const auto& [name, sums] : expected) {
    EXPECT_TRUE(Has(text, name.empty() ? "(check-ins only)" : name)) << text.first;
  }
  auto raw = Client(dir, "audit --raw");
  ASSERT_EQ(raw.second, 0);
  EXPECT_EQ(std::count(raw.first.begin(), raw.first.end(), '\n'), lines);
}

// status: --last 0 shows no lines but says how many there are; what is kept
// and what left are apart and true; the task, its noise and the privacy
// spent are shown; the coordinator's fingerprint when pinned; --json.
TEST(EmployeeCli, StatusSeparatesKeptFromLeftAndShowsTaskNoiseAndFingerprint) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  ASSERT_TRUE(MakeDirectories(dir + "/model", 0700).ok());
  runtime::AuditEntry joined;
  joined.task = "next-command";
  joined.sent = {{"advertise_keys", 70}};
  joined.outcome = "committed";
  joined.rpc.Count(runtime::kRpcSubmit, 70, 2);
  for (int i = 0; i < 18; ++i) ASSERT_TRUE(runtime::AppendAudit(dir, joined).ok());
  const std::string task_json = R"({"name":"next-command",
    "model":{"name":"gru","hyperparameters":{"embedding_dim":16,"hidden_dim":24,"window":16}},
    "vocab":{"size":256,"salt":"s"},"rounds":3,
    "cohort":{"size":4,"over_selection":1.0,"min_survivors":3},
    "dp":{"noise_multiplier":1.3,"clip_norm":1.0}})";
  tmp.Write("client/model/task.json", task_json);

  auto none = Client(dir, "status --last 0");
  ASSERT_EQ(none.second, 0) << none.first;
  EXPECT_FALSE(Has(none, "nothing yet")) << none.first;
  EXPECT_TRUE(Has(none, "18 audit lines (none shown")) << none.first;
  EXPECT_FALSE(Has(none, "Nothing of this leaves the laptop")) << none.first;
  EXPECT_TRUE(Has(none, "Kept on this laptop, never sent")) << none.first;
  EXPECT_TRUE(Has(none, "Left this laptop")) << none.first;
  EXPECT_TRUE(Has(none, "task 'next-command': noise multiplier z 1.3")) << none.first;
  // Not enrolled at all: said so, not mistaken for an unpinned enrollment.
  EXPECT_TRUE(Has(none, "coordinator certificate: none: not enrolled")) << none.first;
  EXPECT_FALSE(Has(none, "not pinned")) << none.first;
  // Kept comes before left, and the closing sentence speaks of what left.
  EXPECT_LT(none.first.find("Kept on this laptop"), none.first.find("Left this laptop"));

  auto three = Client(dir, "status --last 3");
  EXPECT_TRUE(Has(three, "the newest 3 of 18 audit lines")) << three.first;

  ASSERT_TRUE(MakeDirectories(dir + "/fleet", 0700).ok());
  for (const char* file : {"ca.crt", "device.crt", "device.key"}) {
    tmp.Write(std::string("client/fleet/") + file, "read, not parsed, by status");
  }
  tmp.Write("client/fleet/fleet.json",
            R"({"coordinator":"127.0.0.1:1","device_id":"d","server_sha256":"AB:CD"})");
  auto json_run = Client(dir, "status --json --last 2");
  ASSERT_EQ(json_run.second, 0) << json_run.first;
  const nlohmann::json status = nlohmann::json::parse(json_run.first);
  EXPECT_EQ(status["left_this_laptop"]["audit_lines"], 18);
  EXPECT_EQ(status["left_this_laptop"]["newest"].size(), 2u);
  EXPECT_EQ(status["left_this_laptop"]["rounds_joined"], 18);
  EXPECT_EQ(status["task"]["name"], "next-command");
  EXPECT_EQ(status["task"]["noise_multiplier"], 1.3);
  EXPECT_EQ(status["enrollment"]["coordinator_fingerprint"], "AB:CD");
  EXPECT_EQ(status["training_paused"], false);
  EXPECT_TRUE(Has(Client(dir, "status"), "SHA-256 AB:CD (pinned at enroll"));
  // Enrolled before pinning: the enrollment says so, with what to do.
  tmp.Write("client/fleet/fleet.json", R"({"coordinator":"127.0.0.1:1","device_id":"d"})");
  auto unpinned = Client(dir, "status");
  EXPECT_TRUE(Has(unpinned, "not pinned (enrolled before pinning)")) << unpinned.first;
  EXPECT_TRUE(Has(unpinned, "enroll again to pin it")) << unpinned.first;
}

// How often `tacit-client ARGS` (with `env` before it) reads /proc/cpuinfo,
// as strace sees it: the BLAS kernel probe (models/blas_kernels.h) reads it
// before deciding to restart the program. -1 when strace cannot trace here.
int CpuProbes(const std::string& dir, const std::string& args, const std::string& env) {
  testing::TempDir tmp;
  const std::string trace = tmp.File("open.trace");
  (void)testing::Shell(absl::StrCat("strace -f -e trace=open,openat -o '", trace, "' env ", env,
                                    " ", testing::BinaryDir(), "/bin/tacit-client --dir '", dir,
                                    "' ", args, " </dev/null >/dev/null 2>&1"));
  const std::string traced = testing::ReadAll(trace);
  if (traced.find("open") == std::string::npos) return -1;
  int probes = 0;
  for (size_t at = traced.find("\"/proc/cpuinfo\""); at != std::string::npos;
       at = traced.find("\"/proc/cpuinfo\"", at + 1)) {
    ++probes;
  }
  return probes;
}

// Only `run` trains, so only `run` probes the CPU and may restart the
// program for faster BLAS kernels (about 0.7 s and the program loaded
// twice at every start, when it restarts); a restarted `run`
// (TACIT_BLAS_REEXEC=1) does not probe again.
TEST(EmployeeCli, OnlyRunProbesForBlasKernels) {
  if (!testing::OnPath("strace")) GTEST_SKIP() << "SKIPPED: strace is not installed";
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  const std::string unset = "-u OPENBLAS_CORETYPE -u TACIT_BLAS_REEXEC";
  // Not enrolled: `run` stops right after the probe; it shows the probe is seen.
  const int run = CpuProbes(dir, "run", unset);
  if (run < 0) GTEST_SKIP() << "SKIPPED: strace cannot trace processes here";
  EXPECT_GE(run, 1);
  for (const char* args : {"status", "audit", "pause"}) {
    EXPECT_EQ(CpuProbes(dir, args, unset), 0) << args;
  }
  EXPECT_EQ(CpuProbes(dir, "run", "-u OPENBLAS_CORETYPE TACIT_BLAS_REEXEC=1"), 0);
}

}  // namespace
}  // namespace tacit
