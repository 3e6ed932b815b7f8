// `tacit-client install-service` (client/runtime/user_units.h) and the
// coordinator's system unit (packaging/tacit-coordinator.service): the units
// name the right programs and folder, the command never runs systemctl unless
// asked, and systemd itself accepts the files (`systemd-analyze verify`,
// skipped with a message where it is not installed). No systemd needs to run.

#include <sys/stat.h>

#include <fstream>
#include <random>
#include <sstream>

#include "client/runtime/user_units.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"

namespace tacit {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class InstallServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A systemctl that only records how it was called: the test must not
    // need (or touch) the machine's systemd.
    fake_bin_ = scratch_.File("fake-bin");
    ::mkdir(fake_bin_.c_str(), 0755);
    scratch_.Write("fake-bin/systemctl",
                   "#!/bin/sh\necho \"$@\" >> '" + scratch_.File("systemctl-calls") + "'\n");
    ::chmod(scratch_.File("fake-bin/systemctl").c_str(), 0755);
  }
  std::string Bin() const { return testing::BinaryDir() + "/bin"; }
  std::pair<std::string, int> Install(const std::string& extra) {
    return testing::Shell("PATH='" + fake_bin_ + "':$PATH " + Bin() +
                          "/tacit-client install-service --dir '" + client_dir_ + "' --unit-dir '" +
                          units_ + "' " + extra);
  }

  testing::TempDir scratch_;
  std::string fake_bin_, client_dir_ = scratch_.File("client"), units_ = scratch_.File("units");
};

TEST_F(InstallServiceTest, WritesUserUnitsNamingThisInstallAndOnlyPrintsSystemctl) {
  auto [output, code] = Install("");
  ASSERT_EQ(code, 0) << output;
  const std::string collector = ReadFile(units_ + "/tacit-collector.service");
  const std::string daemon = ReadFile(units_ + "/tacit-daemon.service");
  EXPECT_NE(collector.find("\nExecStart=" + Bin() + "/tacit-collector --dir " + client_dir_ + "\n"),
            std::string::npos)
      << collector;
  EXPECT_NE(daemon.find("\nExecStart=" + Bin() + "/tacit-client --dir " + client_dir_ + " run\n"),
            std::string::npos)
      << daemon;
  for (const std::string* unit : {&collector, &daemon}) {
    EXPECT_NE(unit->find("\nNoNewPrivileges=yes\n"), std::string::npos);
    EXPECT_NE(unit->find("\nReadWritePaths=" + client_dir_ + "\n"), std::string::npos);
    EXPECT_EQ(unit->find("User="), std::string::npos) << "user units run as their owner";
  }
  EXPECT_NE(daemon.find("ConditionPathExists=" + client_dir_ + "/fleet/fleet.json"),
            std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(client_dir_.c_str(), &st), 0) << "the folder the units may write exists";
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_NE(output.find("systemctl --user enable --now tacit-collector.service "
                        "tacit-daemon.service"),
            std::string::npos)
      << output;
  EXPECT_FALSE(std::ifstream(scratch_.File("systemctl-calls")).good())
      << "systemctl ran without --enable";

  auto [enabled, enable_code] = Install("--enable");
  ASSERT_EQ(enable_code, 0) << enabled;
  EXPECT_EQ(ReadFile(scratch_.File("systemctl-calls")),
            "--user daemon-reload\n"
            "--user enable --now tacit-collector.service tacit-daemon.service\n");
}

TEST_F(InstallServiceTest, SystemdAcceptsTheUserUnits) {
  if (!testing::OnPath("systemd-analyze")) {
    GTEST_SKIP() << "SKIPPED: systemd-analyze is not installed; the units were not verified";
  }
  ASSERT_EQ(Install("").second, 0);
  // A user manager's runtime folder of its own: no systemd needs to run.
  const std::string runtime = scratch_.File("xdg-runtime");
  ::mkdir(runtime.c_str(), 0700);
  auto [output, code] =
      testing::Shell("XDG_RUNTIME_DIR='" + runtime + "' systemd-analyze --user verify '" + units_ +
                     "/tacit-collector.service' '" + units_ + "/tacit-daemon.service'");
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "") << "systemd warned about the units";
}

// The shipped system unit, with its ExecStart pointed at this build's
// coordinator (verify checks that the program exists).
TEST(CoordinatorSystemUnit, RunsAsItsOwnUserHardenedAndSystemdAcceptsIt) {
  const std::string unit =
      ReadFile(std::string(TACIT_SOURCE_DIR) + "/packaging/tacit-coordinator.service");
  ASSERT_FALSE(unit.empty());
  EXPECT_NE(unit.find("\nUser=tacit-coordinator\n"), std::string::npos);
  for (const char* line :
       {"\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nCapabilityBoundingSet=\n",
        "\nPrivateTmp=yes\n", "\nExecStart=/usr/bin/tacit-coordinator serve "}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
  const std::string sysusers =
      ReadFile(std::string(TACIT_SOURCE_DIR) + "/packaging/tacit-coordinator.sysusers");
  EXPECT_EQ(sysusers.find("\nu tacit-coordinator "), sysusers.find("\nu "));
  if (!testing::OnPath("systemd-analyze")) {
    GTEST_SKIP() << "SKIPPED: systemd-analyze is not installed; the unit was not verified";
  }
  testing::TempDir dir;
  std::string local = unit;
  const std::string shipped = "ExecStart=/usr/bin/tacit-coordinator";
  local.replace(local.find(shipped), shipped.size(),
                "ExecStart=" + testing::BinaryDir() + "/bin/tacit-coordinator");
  const std::string path = dir.Write("tacit-coordinator.service", local);
  auto [output, code] = testing::Shell("systemd-analyze verify '" + path + "'");
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "") << "systemd warned about the unit";
}

// Paths a unit file would read differently are refused, whatever else they hold.
TEST(UserUnits, RefusePathsAUnitFileWouldMisread) {
  const std::string bad = " \t\"'\\%;$`";
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string path = "/home/u";
    const size_t length = 1 + rng() % 12;
    for (size_t j = 0; j < length; ++j) path += static_cast<char>('a' + rng() % 26);
    path.insert(1 + rng() % (path.size() - 1), 1, bad[rng() % bad.size()]);
    runtime::UserUnitOptions options{"/usr/bin", path, true};
    EXPECT_FALSE(runtime::MakeUserUnits(options).ok()) << path;
    options = {path, "/home/u/.local/share/tacit", true};
    EXPECT_FALSE(runtime::MakeUserUnits(options).ok()) << path;
  }
  EXPECT_FALSE(runtime::MakeUserUnits({"/usr/bin", "relative/dir", true}).ok());
  auto units = runtime::MakeUserUnits({"/usr/bin", "/home/u/.local/share/tacit", false});
  ASSERT_TRUE(units.ok()) << units.status();
  ASSERT_EQ(units->size(), 1u) << "no collector unit without a collector";
  EXPECT_EQ((*units)[0].name, "tacit-daemon.service");
}

}  // namespace
}  // namespace tacit
