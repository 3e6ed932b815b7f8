// The fleet client's local pieces: eligibility from Linux sources with
// overrides, backoff with jitter, enrollment files and the audit log.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "client/runtime/audit_log.h"
#include "client/runtime/backoff.h"
#include "client/runtime/eligibility.h"
#include "client/runtime/enrollment.h"
#include "coordinator/pki.h"
#include "tests/client/hermetic_sources.h"

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
  v1::DeviceState paused = ToDeviceState(r, "", /*training_paused=*/true);
  EXPECT_FALSE(paused.eligible());
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  for (int failures = 1; failures < 12; ++failures) {
    double low = BackoffSeconds(failures, 300, 0.0);
    double high = BackoffSeconds(failures, 300, 0.999);
    EXPECT_NEAR(high / low, 1.499 / 0.5, 1e-9);
    EXPECT_LE(high, 300 * 1.5);
    if (failures < 8) {
      EXPECT_DOUBLE_EQ(BackoffSeconds(failures + 1, 300, 0.5),
                       2 * BackoffSeconds(failures, 300, 0.5));
    }
  }
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

TEST(AuditLog, AppendsOneLinePerRoundAndKeepsTheNewest) {
  TempDir dir;
  for (int round = 1; round <= 7; ++round) {
    AuditEntry e;
    e.round = round;
    e.sent = {{"advertise_keys", 70}, {"masked_input", 4000}};
    e.bytes_up = 4070;
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

}  // namespace
}  // namespace tacit::runtime
