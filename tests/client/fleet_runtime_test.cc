// The fleet client's local pieces: eligibility from Linux sources with
// overrides, backoff with jitter, enrollment files and the audit log.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "client/runtime/audit_log.h"
#include "client/runtime/backoff.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/round_runner.h"
#include "common/file_io.h"
#include "coordinator/pki.h"
#include "tests/client/hermetic_sources.h"
#include "tests/support/test_seed.h"

namespace tacit::runtime {
namespace {

using tacit::testing::HermeticSources;
using tacit::testing::TempDir;

void Supply(const TempDir& dir, const std::string& name, const std::string& type,
            const std::string& key, const std::string& value) {
  std::filesystem::create_directories(dir.File("power/" + name));
  std::ofstream(dir.File("power/" + name + "/type")) << type << "\n";
  std::ofstream(dir.File("power/" + name + "/" + key)) << value << "\n";
}

TEST(Eligibility, ReadsPowerSupplies) {
  TempDir laptop;
  ReadingSources sources = HermeticSources(laptop);
  Supply(laptop, "AC", "Mains", "online", "0");
  Supply(laptop, "BAT0", "Battery", "capacity", "42");
  DeviceReadings r = ReadDevice({}, sources);
  EXPECT_FALSE(r.on_ac_power);
  EXPECT_EQ(r.battery_percent, 42);
  EXPECT_EQ(r.idle_minutes, 24 * 60);  // no terminal: idle
  Supply(laptop, "AC", "Mains", "online", "1");
  EXPECT_TRUE(ReadDevice({}, sources).on_ac_power);

  TempDir desktop;
  DeviceReadings d = ReadDevice({}, HermeticSources(desktop));
  EXPECT_TRUE(d.on_ac_power);
  EXPECT_EQ(d.battery_percent, -1);
}

TEST(Eligibility, OverridesWinAndEveryRequirementIsChecked) {
  TempDir dir;
  ReadingOverrides o;
  o.on_ac_power = true;
  o.battery_percent = 80;
  o.idle_minutes = 30;
  o.unmetered_network = true;
  o.local_hour = 23;
  DeviceReadings r = ReadDevice(o, HermeticSources(dir));
  EligibilityConfig required;  // AC, idle 10, unmetered, battery 50, all day
  EXPECT_EQ(IneligibleReason(required, r), "");
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    DeviceReadings x = r;
    int broken = std::uniform_int_distribution<int>(0, 4)(rng);
    EligibilityConfig req = required;
    req.allowed_hours_start = 22;  // 22 -> 6 wraps midnight
    req.allowed_hours_end = 6;
    x.local_hour = std::uniform_int_distribution<int>(22, 29)(rng) % 24;
    if (broken == 0) x.on_ac_power = false;
    if (broken == 1) x.battery_percent = std::uniform_int_distribution<int>(0, 49)(rng);
    if (broken == 2) x.idle_minutes = std::uniform_int_distribution<int>(0, 9)(rng);
    if (broken == 3) x.unmetered_network = false;
    if (broken == 4) x.local_hour = std::uniform_int_distribution<int>(6, 21)(rng);
    EXPECT_NE(IneligibleReason(req, x), "") << "requirement " << broken;
    x = r;
    x.local_hour = std::uniform_int_distribution<int>(22, 29)(rng) % 24;
    EXPECT_EQ(IneligibleReason(req, x), "") << x.local_hour;
  }
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  for (int failures = 1; failures < 12; ++failures) {
    double low = BackoffSeconds(failures, 300, 0.0);
    double high = BackoffSeconds(failures, 300, 0.999);
    EXPECT_LE(high, 300);
    if (failures < 8) {  // 2^8 * 1.499 passes the cap
      EXPECT_NEAR(high / low, 1.499 / 0.5, 1e-9);
      EXPECT_DOUBLE_EQ(BackoffSeconds(failures + 1, 300, 0.5),
                       2 * BackoffSeconds(failures, 300, 0.5));
    }
  }
}

// Issue 19: `--max-backoff-seconds 10` waited 11.5-13.9 s (jitter past the cap).
TEST(Backoff, NeverExceedsTheCapForAnyAttemptOrDraw) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> cap(0.5, 600);
  std::uniform_real_distribution<double> unit(0.0, std::nextafter(1.0, 0.0));
  std::uniform_int_distribution<int> failures(0, 80);
  for (int trial = 0; trial < 20000; ++trial) {
    const double max_seconds = cap(rng);
    const int f = failures(rng);
    const double u = unit(rng);
    const double wait = BackoffSeconds(f, max_seconds, u);
    ASSERT_LE(wait, max_seconds) << "failures " << f << " u " << u;
    ASSERT_GT(wait, 0) << "failures " << f << " u " << u;
  }
  // At the cap the fleet still spreads out: the lowest draw waits half of it.
  EXPECT_DOUBLE_EQ(BackoffSeconds(40, 10, 0.0), 5.0);
  EXPECT_DOUBLE_EQ(BackoffSeconds(40, 10, 0.999), 10.0);
}

TEST(Enrollment, StoresTheKeyPrivatelyAndRefusesAForeignKey) {
  TempDir pki;
  ASSERT_TRUE(coordinator::InitPkiFolder(pki.path(), {"localhost"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-7", 30).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "other", 30).ok());
  TempDir client;
  EXPECT_FALSE(Enroll(client.path(), "h:1", pki.File("ca.crt"), pki.File("devices/laptop-7.crt"),
                      pki.File("devices/other.key"), "")
                   .ok());
  EXPECT_EQ(LoadEnrollment(client.path()).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Enroll(client.path(), "h:1", pki.File("ca.crt"), pki.File("devices/laptop-7.crt"),
                     pki.File("devices/laptop-7.key"), "")
                  .ok());
  auto e = LoadEnrollment(client.path());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->device_id, "laptop-7");
  struct stat st {};
  ASSERT_EQ(::stat(client.File("fleet/device.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// The SecAgg credential is enrolled with the key (the .cred next to the
// .crt by default), checked first, and is what the round runner signs with.
TEST(Enrollment, StoresTheSecAggCredentialAndRefusesOneForAnotherKey) {
  TempDir pki;
  ASSERT_TRUE(coordinator::InitPkiFolder(pki.path(), {"localhost"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-7", 30).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "other", 30).ok());
  TempDir client;
  // Another device's credential with this device's key and certificate.
  absl::Status foreign =
      Enroll(client.path(), "h:1", pki.File("ca.crt"), pki.File("devices/laptop-7.crt"),
             pki.File("devices/laptop-7.key"), "", pki.File("devices/other.cred"));
  EXPECT_TRUE(absl::IsInvalidArgument(foreign)) << foreign;
  EXPECT_NE(foreign.message().find("pki issue"), std::string::npos) << foreign;
  // A credential of another fleet's CA.
  TempDir rogue;
  ASSERT_TRUE(coordinator::InitPkiFolder(rogue.path(), {"localhost"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(rogue.path(), "laptop-7", 30).ok());
  EXPECT_FALSE(Enroll(client.path(), "h:1", pki.File("ca.crt"), rogue.File("devices/laptop-7.crt"),
                      rogue.File("devices/laptop-7.key"), "")
                   .ok());
  EXPECT_EQ(LoadEnrollment(client.path()).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Enroll(client.path(), "h:1", pki.File("ca.crt"), pki.File("devices/laptop-7.crt"),
                     pki.File("devices/laptop-7.key"), "")
                  .ok());
  auto e = LoadEnrollment(client.path());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->credential, *ReadFileToString(pki.File("devices/laptop-7.cred")));
  auto identity = LoadFleetIdentity(client.path());
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->signer->identity().size(), secagg::kCredentialBytes);
  const secagg::Bytes message = {1, 2, 3};
  EXPECT_TRUE(identity->verifier
                  ->Verify(identity->signer->identity(), message, *identity->signer->Sign(message))
                  .ok());
}

// An enrollment made before credentials still loads (check-ins keep
// working), and the round runner says to re-issue the device.
TEST(Enrollment, WithoutACredentialSaysToReissueTheDevice) {
  TempDir pki;
  ASSERT_TRUE(coordinator::InitPkiFolder(pki.path(), {"localhost"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-7", 30).ok());
  TempDir client;
  std::filesystem::copy_file(pki.File("devices/laptop-7.crt"), client.File("laptop-7.crt"));
  std::filesystem::copy_file(pki.File("devices/laptop-7.key"), client.File("laptop-7.key"));
  absl::Status missing = Enroll(client.path(), "h:1", pki.File("ca.crt"),
                                client.File("laptop-7.crt"), client.File("laptop-7.key"), "");
  EXPECT_TRUE(absl::IsFailedPrecondition(missing)) << missing;
  EXPECT_NE(missing.message().find("--replace"), std::string::npos) << missing;
  ASSERT_TRUE(Enroll(client.path(), "h:1", pki.File("ca.crt"), pki.File("devices/laptop-7.crt"),
                     pki.File("devices/laptop-7.key"), "")
                  .ok());
  std::filesystem::remove(client.File("fleet/secagg.cred"));  // as enrolled before credentials
  auto e = LoadEnrollment(client.path());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->credential.empty());
  auto identity = LoadFleetIdentity(client.path());
  EXPECT_TRUE(absl::IsFailedPrecondition(identity.status())) << identity.status();
  EXPECT_NE(identity.status().message().find("pki issue laptop-7 --replace"), std::string::npos)
      << identity.status();
}

TEST(AuditLog, AppendsOneLinePerRoundAndKeepsTheNewest) {
  TempDir dir;
  for (int round = 1; round <= 7; ++round) {
    AuditEntry e;
    e.round = round;
    e.sent = {{"advertise_keys", 70}, {"masked_input", 4000}};
    e.rpc.Count(kRpcSubmit, 4070, 0);
    e.outcome = "committed";
    ASSERT_TRUE(AppendAudit(dir.path(), e).ok());
  }
  std::ofstream(dir.File(kAuditLogFile), std::ios::app) << "{torn";  // a crash mid-write
  auto lines = ReadAudit(dir.path(), 3);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0]["round"], 5);
  EXPECT_EQ((*lines)[2]["masked"], "yes");
  EXPECT_EQ((*lines)[2]["sent"][1]["bytes"], 4000);
}

// Property test: whatever calls a round and the check-ins between rounds
// make, each line's totals are the sums of its per-RPC counts, and the whole
// log's totals (tacit-client status, the daily cap) are the sums of the lines.
TEST(AuditLog, CountsEveryRpcPerPurposeAndSumsTheWholeLog) {
  std::mt19937 rng(11);
  const char* rpcs[] = {kRpcCheckIn, kRpcDownloadModel, kRpcNextMessage, kRpcSubmit,
                        kRpcRoundResult};
  for (int trial = 0; trial < 10; ++trial) {
    TempDir dir;
    int64_t up = 0, down = 0, check_ins = 0, joined = 0;
    const int lines = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < lines; ++i) {
      RpcTally tally;
      for (int call = static_cast<int>(rng() % 30); call > 0; --call) {
        const std::string rpc = rpcs[rng() % 5];
        const int64_t u = rng() % 5000, d = rng() % 70000;
        tally.Count(rpc, u, d);
        up += u;
        down += d;
        check_ins += rpc == kRpcCheckIn;
      }
      if (rng() % 3 == 0) {
        CheckInBurst burst;
        burst.rpc = tally;
        ASSERT_TRUE(AppendCheckInBurst(dir.path(), burst).ok());
        continue;
      }
      AuditEntry e;
      e.round = i;
      e.rpc = tally;
      if (rng() % 2 == 0) {
        e.sent = {{"advertise_keys", 70}};
        ++joined;
      }
      e.outcome = e.sent.empty() ? "refused: the round's threshold is 2" : "committed";
      ASSERT_TRUE(AppendAudit(dir.path(), e).ok());
      auto last = ReadAudit(dir.path(), 1);
      ASSERT_TRUE(last.ok());
      EXPECT_EQ((*last)[0]["bytes_up"], tally.up());
      EXPECT_EQ((*last)[0]["bytes_down"], tally.down());
      for (const auto& [rpc, bytes] : tally.by_rpc) {
        EXPECT_EQ((*last)[0]["rpc"][rpc]["calls"], bytes.calls);
      }
    }
    // A line from before the "kind" key, one whose values an edit damaged (wrong
    // types: counted as zero, never thrown), and a torn one: read as a round,
    // ignored, skipped.
    std::ofstream(dir.File(kAuditLogFile), std::ios::app)
        << R"({"round":1,"sent":[{"message":"masked_input","bytes":9}],"bytes_up":9,)"
        << R"("bytes_down":0,"time":"2001-01-01 00:00:00 UTC"})"
        << "\n"
        << R"({"kind":7,"bytes_up":"x","bytes_down":[1],"rpc":{"check_in":5},"time":3})"
        << "\n{torn";
    absl::StatusOr<AuditTotals> totals = SumAudit(dir.path());
    ASSERT_TRUE(totals.ok());
    EXPECT_EQ(totals->bytes_up, up + 9);
    EXPECT_EQ(totals->bytes_down, down);
    EXPECT_EQ(totals->check_ins, check_ins);
    EXPECT_EQ(totals->rounds_joined, joined + 1);
    EXPECT_EQ(totals->rounds_joined_today, joined);  // the old line is from 2001
  }
}

}  // namespace
}  // namespace tacit::runtime
