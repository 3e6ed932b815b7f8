// The serial denylist and the issued-certificate log (coordinator/pki_revocation.h).

#include "coordinator/pki_revocation.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "common/file_io.h"
#include "coordinator/pki.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

class PkiRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/revocation_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(InitPkiFolder(dir_, {"localhost"}).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Serial(const std::string& device) {
    auto pem = ReadFileToString(dir_ + "/devices/" + device + ".crt");
    EXPECT_TRUE(pem.ok());
    auto serial = CertificateSerialHex(*pem);
    EXPECT_TRUE(serial.ok()) << serial.status();
    return *serial;
  }

  std::string dir_;
};

// Random devices, each issued and replaced a random number of times, some
// revoked: exactly the replaced and revoked serials are denied, the rest pass.
TEST_F(PkiRevocationTest, ReplacedAndRevokedSerialsAreDeniedAndNoOthers) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  RevocationList list(dir_);
  std::set<std::string> denied, allowed;
  const int devices = 2 + static_cast<int>(rng() % 3);
  for (int d = 0; d < devices; ++d) {
    const std::string id = "dev-" + std::to_string(d);
    const int issues = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < issues; ++i) {
      ASSERT_TRUE(IssueDeviceInFolder(dir_, id, 30, /*replace=*/i > 0).ok());
      if (i + 1 < issues) denied.insert(Serial(id));
    }
    if (rng() % 2 == 0) {
      auto revoked = RevokeDeviceInFolder(dir_, id);
      ASSERT_TRUE(revoked.ok()) << revoked.status();
      EXPECT_EQ(revoked->size(), 1u);  // earlier ones were revoked on replacement
      denied.insert(Serial(id));
    } else {
      allowed.insert(Serial(id));
    }
  }
  for (const std::string& serial : denied) {
    absl::Status s = list.Check(serial, "x");
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << serial << " " << s;
  }
  for (const std::string& serial : allowed) EXPECT_TRUE(list.Check(serial, "x").ok()) << serial;

  auto rows = ListCertificatesInFolder(dir_);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), denied.size() + allowed.size());
  for (const ListedCertificate& row : *rows) {
    EXPECT_EQ(row.revoked, denied.count(row.certificate.serial_hex) > 0);
    EXPECT_FALSE(row.expired);
  }
}

// tacit-sim issues its devices from parallel threads: no issued line may be lost.
TEST_F(PkiRevocationTest, ConcurrentIssuesAreAllLogged) {
  const int devices = 8 + static_cast<int>(::testing::UnitTest::GetInstance()->random_seed() % 8);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int d = 0; d < devices; ++d) {
    threads.emplace_back(
        [&, d] { failures += !IssueDeviceInFolder(dir_, "dev-" + std::to_string(d), 30).ok(); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto issued = ReadIssuedLog(dir_);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->size(), static_cast<size_t>(devices));
}

TEST_F(PkiRevocationTest, RevokeNamesUnknownDevicesAndIsIdempotent) {
  EXPECT_TRUE(absl::IsNotFound(RevokeDeviceInFolder(dir_, "never-issued").status()));
  ASSERT_TRUE(IssueDeviceInFolder(dir_, "laptop", 30).ok());
  EXPECT_EQ(RevokeDeviceInFolder(dir_, "laptop")->size(), 1u);
  EXPECT_TRUE(RevokeDeviceInFolder(dir_, "laptop")->empty());
}

// A certificate issued before issued.log existed is still revocable.
TEST_F(PkiRevocationTest, CertificatesIssuedBeforeTheLogAreListedAndRevocable) {
  ASSERT_TRUE(IssueDeviceInFolder(dir_, "old", 30).ok());
  std::filesystem::remove(dir_ + "/" + kIssuedLogFile);
  auto rows = ListCertificatesInFolder(dir_);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].certificate.device_id, "old");
  ASSERT_EQ(RevokeDeviceInFolder(dir_, "old")->size(), 1u);
  RevocationList list(dir_);
  EXPECT_TRUE(absl::IsPermissionDenied(list.Check(Serial("old"), "old")));
}

TEST_F(PkiRevocationTest, TheListReloadsWhenTheFileChangesAndFailsClosed) {
  ASSERT_TRUE(IssueDeviceInFolder(dir_, "laptop", 30).ok());
  RevocationList list(dir_);
  const std::string serial = Serial("laptop");
  EXPECT_TRUE(list.Check(serial, "laptop").ok());  // loaded, no file yet
  ASSERT_TRUE(RevokeDeviceInFolder(dir_, "laptop").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(list.Check(serial, "laptop")));
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/" + kRevokedFile, "garbage\n").ok());
  absl::Status closed = list.Check("1234", "other");
  EXPECT_TRUE(absl::IsUnavailable(closed)) << closed;
  EXPECT_THAT(closed.message(), HasSubstr("revocation list is unreadable"));
  std::filesystem::remove(dir_ + "/" + kRevokedFile);
  EXPECT_TRUE(list.Check(serial, "laptop").ok());
}

}  // namespace
}  // namespace tacit::coordinator
