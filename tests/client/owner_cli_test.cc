// Runs the real build/bin/tacit-client as its owner would.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "client/control_state.h"
#include "client/runtime/enrollment.h"
#include "client/store/event_store.h"
#include "common/file_io.h"
#include "coordinator/pki.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"

namespace tacit {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CliRun Client(const std::string& dir, const std::string& args) {
  std::string command =
      ::tacit::testing::BinaryDir() + "/bin/tacit-client --dir '" + dir + "' " + args + " 2>&1";
  CliRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    run.output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

bool Has(const CliRun& run, const std::string& text) {
  return run.output.find(text) != std::string::npos;
}

// Issue 19: the README says the product needs no data set, yet a client had
// no way to use the built-in generator. Its events are stored through the
// privacy filter and marked as synthetic wherever the store is shown.
TEST(OwnerCli, GenerateActivityStoresSyntheticEventsAndInspectSaysSo) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  EXPECT_NE(Client(dir, "generate-activity --days 0").exit_code, 0);
  CliRun made = Client(dir, "generate-activity --days 1 --max-events 3000 --person 2");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_TRUE(Has(made, "SYNTHETIC events (persona support")) << made.output;
  auto store = EventStore::OpenInDirectory(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto summary = (*store)->Summary();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_GT(summary->events, 1000);
  EXPECT_LE(summary->events, 3000);
  // Ends now: nothing in the future, nothing outside the retention window.
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_LE(summary->last_ms, now_ms);
  EXPECT_GT(summary->first_ms, now_ms - 2LL * 24 * 3600 * 1000);
  store->reset();
  CliRun inspect = Client(dir, "inspect");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_TRUE(Has(inspect, "SYNTHETIC DATA: " + std::to_string(summary->events) + " of the events"))
      << inspect.output;
}

// Every file under `dir`, by path relative to it, with its bytes.
std::map<std::string, std::string> FilesUnder(const std::string& dir) {
  std::map<std::string, std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error)) {
    if (!entry.is_regular_file()) continue;
    auto bytes = ReadFileToString(entry.path().string());
    files[std::filesystem::relative(entry.path(), dir).string()] = bytes.ok() ? *bytes : "?";
  }
  return files;
}

// Issue 19: `enroll` against an unreachable coordinator exited 0. Then the
// review: a failed enroll wrote the new files first and removed fleet.json
// after, so a failed re-enroll destroyed the previous enrollment and a
// failed first one left the device key behind. Now nothing is written
// until everything, the coordinator included, is verified.
TEST(OwnerCli, AFailedEnrollChangesNothing) {
  testing::TempDir pki;
  ASSERT_TRUE(coordinator::InitPkiFolder(pki.path(), {"127.0.0.1"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-3", 30).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-4", 30).ok());
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  auto enroll = [&](const std::string& device, const std::string& extra) {
    return Client(dir, "enroll --coordinator 127.0.0.1:9 --ca " + pki.File("ca.crt") + " --cert " +
                           pki.File("devices/" + device + ".crt") + " --key " +
                           pki.File("devices/" + device + ".key") + extra);
  };
  // Port 9 (discard) on loopback: nothing of tacit's listens there.
  CliRun first = enroll("laptop-3", "");
  EXPECT_NE(first.exit_code, 0) << first.output;
  EXPECT_TRUE(Has(first, "no coordinator completed a TLS handshake at 127.0.0.1:9"))
      << first.output;
  EXPECT_TRUE(Has(first, "Not enrolled")) << first.output;
  EXPECT_FALSE(runtime::LoadEnrollment(dir).ok());
  // No half-written enrollment: no key, no fleet file at all.
  EXPECT_FALSE(std::filesystem::exists(dir + "/fleet/device.key"));
  EXPECT_TRUE(FilesUnder(dir + "/fleet").empty());
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + runtime::kStagedFleetDir));

  // With the fingerprint the operator handed out, it enrolls offline and pins it.
  const std::string fingerprint(64, 'a');
  CliRun offline = enroll("laptop-3", " --server-fingerprint " + fingerprint);
  ASSERT_EQ(offline.exit_code, 0) << offline.output;
  auto enrolled = runtime::LoadEnrollment(dir);
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
  EXPECT_EQ(enrolled->server_sha256.substr(0, 5), "AA:AA");
  const std::map<std::string, std::string> before = FilesUnder(dir + "/fleet");
  ASSERT_EQ(before.count("device.key"), 1u);

  // Re-enrolling as another device: an unreachable coordinator, then a
  // malformed pin. The previous enrollment stays byte for byte.
  CliRun unreachable = enroll("laptop-4", "");
  EXPECT_NE(unreachable.exit_code, 0) << unreachable.output;
  EXPECT_TRUE(FilesUnder(dir + "/fleet") == before) << unreachable.output;
  CliRun malformed = enroll("laptop-4", " --server-fingerprint zz" + fingerprint.substr(2));
  EXPECT_NE(malformed.exit_code, 0) << malformed.output;
  EXPECT_TRUE(FilesUnder(dir + "/fleet") == before) << malformed.output;
  EXPECT_EQ(runtime::LoadEnrollment(dir)->device_id, "laptop-3");
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + runtime::kStagedFleetDir));

  // A successful re-enroll replaces it whole, the old key overwritten and gone.
  CliRun again = enroll("laptop-4", " --server-fingerprint " + std::string(64, 'b'));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(runtime::LoadEnrollment(dir)->device_id, "laptop-4");
  const std::map<std::string, std::string> after = FilesUnder(dir + "/fleet");
  EXPECT_EQ(after.at("device.key"), *ReadFileToString(pki.File("devices/laptop-4.key")));
  EXPECT_EQ(after.size(), before.size());
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + runtime::kStagedFleetDir));
}

TEST(OwnerCli, ImportInspectPauseResumeErase) {
  TACIT_REQUIRE_SHARED_DATA(sea, "sea-commands");
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");

  CliRun import = Client(dir, "import --format sea-commands " + sea + "/User7");
  ASSERT_EQ(import.exit_code, 0) << import.output;
  EXPECT_TRUE(Has(import, "kept on this laptop, encrypted: 15000 events")) << import.output;
  EXPECT_TRUE(Has(import, "Nothing of this leaves the laptop")) << import.output;

  CliRun inspect = Client(dir, "inspect");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_TRUE(Has(inspect, "Stored events: 15000")) << inspect.output;
  EXPECT_TRUE(Has(inspect, "shell_command")) << inspect.output;
  EXPECT_TRUE(Has(inspect, "Retention: events older than 30 days")) << inspect.output;
  EXPECT_TRUE(Has(inspect, "never kept: typed text, window titles, command arguments"));
  EXPECT_TRUE(Has(inspect, "Nothing of this leaves the laptop"));

  CliRun pause = Client(dir, "pause --collection");
  ASSERT_EQ(pause.exit_code, 0) << pause.output;
  auto state = LoadControlState(dir);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->collection_paused);
  EXPECT_FALSE(state->training_paused);
  EXPECT_TRUE(Has(Client(dir, "inspect"), "Collection: PAUSED; training: on"));
  ASSERT_EQ(Client(dir, "resume").exit_code, 0);
  EXPECT_FALSE(LoadControlState(dir)->collection_paused);

  CliRun erase = Client(dir, "erase --all");
  ASSERT_EQ(erase.exit_code, 0) << erase.output;
  EXPECT_TRUE(Has(erase, "Erased 15000 events")) << erase.output;
  EXPECT_TRUE(Has(Client(dir, "inspect"), "Stored events: 0"));
}

TEST(OwnerCli, BadInputIsRefusedAndNothingStoredIsLost) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  const std::string good =
      tmp.Write("good.jsonl", R"({"t":1577836800000,"kind":"key_press","key":"a"})"
                              "\n");
  ASSERT_EQ(Client(dir, "import --times now --format jsonl " + good).exit_code, 0);
  const std::string bad =
      tmp.Write("bad.jsonl", R"({"t":1577836800001,"kind":"key_press","key":"b"})"
                             "\n"
                             R"({"t":1577836800002,"kind":"oops"})"
                             "\n");
  CliRun refused = Client(dir, "import --times now --format jsonl " + bad);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Has(refused, "bad.jsonl:2: unknown event kind 'oops'")) << refused.output;
  EXPECT_TRUE(Has(refused, "Nothing was imported")) << refused.output;
  EXPECT_TRUE(Has(Client(dir, "inspect"), "Stored events: 1"));

  CliRun skipped = Client(dir, "import --times now --on-error skip --format jsonl " + bad);
  EXPECT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_TRUE(Has(skipped, "bad lines skipped:              1")) << skipped.output;
  EXPECT_TRUE(Has(Client(dir, "inspect"), "Stored events: 2"));

  // Times kept from 2020 fall outside the 30-day retention window at once.
  CliRun old = Client(dir, "import --times keep --format jsonl " + good);
  EXPECT_EQ(old.exit_code, 0) << old.output;
  EXPECT_TRUE(Has(old, "removed by the 30-day retention window: 1 events")) << old.output;
  EXPECT_TRUE(Has(Client(dir, "inspect"), "Stored events: 2"));

  EXPECT_EQ(Client(dir, "erase").exit_code, 1);
  EXPECT_EQ(Client(dir, "erase --from 2026-13-01").exit_code, 1);
  EXPECT_EQ(Client(dir, "import --format excel " + good).exit_code, 1);
  EXPECT_NE(Client(dir, "").exit_code, 0) << "a subcommand is required";
}

// erase --all never fails because the store cannot be read: a damaged store
// and one whose key does not open it are deleted, files listed.
TEST(OwnerCli, EraseAllDeletesADamagedOrWrongKeyStore) {
  testing::TempDir tmp;
  const std::string good = tmp.Write("good.jsonl", R"({"t":1577836800000,"kind":"key_press"})"
                                                   "\n");
  for (const std::string damage : {"garbage", "wrong-key"}) {
    SCOPED_TRACE(damage);
    const std::string dir = tmp.File("client-" + damage);
    ASSERT_EQ(Client(dir, "import --times now --format jsonl " + good).exit_code, 0);
    if (damage == "garbage") {
      tmp.Write("client-" + damage + "/events.db", std::string(10000, 'x'));
    } else {
      const std::string key = dir + "/store.key";
      ASSERT_EQ(::unlink(key.c_str()), 0);
      tmp.Write("client-" + damage + "/store.key", std::string(64, 'b') + "\n");
      ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
    }
    CliRun erase = Client(dir, "erase --all");
    EXPECT_EQ(erase.exit_code, 0) << erase.output;
    EXPECT_TRUE(Has(erase, "The store could not be read")) << erase.output;
    EXPECT_TRUE(Has(erase, "removed " + dir + "/events.db\n")) << erase.output;
    EXPECT_TRUE(Has(erase, "removed " + dir + "/store.key\n")) << erase.output;
    struct stat st {};
    EXPECT_NE(::stat((dir + "/events.db").c_str(), &st), 0);
    EXPECT_NE(::stat((dir + "/store.key").c_str(), &st), 0);
    CliRun fresh = Client(dir, "inspect");
    EXPECT_EQ(fresh.exit_code, 0) << fresh.output;
    EXPECT_TRUE(Has(fresh, "Stored events: 0")) << fresh.output;
  }
}

// A relative-time log kept at its 1970 times, or a date in year 292 million,
// is refused with the file and line named; nothing is stored.
TEST(OwnerCli, ImportRefusesTimesOutsideTheWindow) {
  testing::TempDir tmp;
  const std::string dir = tmp.File("client");
  const std::string sea = tmp.Write("User1", "ls\ncd\n");
  CliRun kept = Client(dir, "import --times keep --format sea-commands " + sea);
  EXPECT_EQ(kept.exit_code, 1) << kept.output;
  EXPECT_TRUE(Has(kept, "User1:1: event time after the shift 0 ms")) << kept.output;
  EXPECT_TRUE(Has(kept, "Nothing was imported")) << kept.output;
  const std::string future = tmp.Write("p.jsonl", R"({"t":1577836800000,"kind":"key_press"})"
                                                  "\n"
                                                  R"({"t":2305843009213693951,"kind":"key_press"})"
                                                  "\n");
  CliRun refused = Client(dir, "import --format jsonl " + future);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_TRUE(Has(refused, "p.jsonl:2: event time 2305843009213693951 ms")) << refused.output;
  EXPECT_TRUE(Has(Client(dir, "inspect"), "Stored events: 0"));
}

}  // namespace
}  // namespace tacit
