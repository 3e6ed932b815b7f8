// bench/common: strict flags, the machine line, and a report that fails when
// the work it reports did not happen.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/flags.h"
#include "bench/common/machine.h"
#include "bench/common/report.h"
#include "gtest/gtest.h"

namespace tacit::bench {
namespace {

std::optional<int> Parse(std::vector<std::string> args, int* value) {
  CLI::App app{"test bench", "test_bench"};
  app.add_option("--value", *value);
  CommonFlags common;
  AddCommonFlags(app, &common);
  args.insert(args.begin(), "test_bench");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseFlags(app, static_cast<int>(argv.size()), argv.data());
}

TEST(BenchFlags, RunsWithKnownFlags) {
  int value = 0;
  EXPECT_EQ(Parse({"--value", "7", "--json", "/tmp/x.json"}, &value), std::nullopt);
  EXPECT_EQ(value, 7);
}

TEST(BenchFlags, UnknownFlagsAndStrayArgumentsExitTwo) {
  int value = 0;
  EXPECT_EQ(Parse({"--valeu", "7"}, &value), kExitBadFlags);
  EXPECT_EQ(Parse({"stray"}, &value), kExitBadFlags);
  EXPECT_EQ(Parse({"--value", "seven"}, &value), kExitBadFlags);
}

TEST(BenchFlags, HelpExitsZeroBeforeAnyOtherCheck) {
  int value = 0;
  EXPECT_EQ(Parse({"--help"}, &value), kExitOk);
  EXPECT_EQ(Parse({"--value", "3", "-h"}, &value), kExitOk);
}

TEST(CpuInfo, TakesTheFirstProcessorsModelAndVendor) {
  const std::string text =
      "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\n"
      "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\n"
      "vendor_id\t: OtherVendor\nmodel name\t: Other\n";
  const CpuInfo info = ParseCpuInfo(text);
  EXPECT_EQ(info.model, "Intel(R) Xeon(R) CPU @ 2.20GHz");  // not "85" from "model"
  EXPECT_EQ(info.vendor, "GenuineIntel");
  EXPECT_EQ(ParseCpuInfo("").model, "");
}

TEST(Machine, NamesCpuCoresThreadsAndBlas) {
  const nlohmann::json machine = DescribeMachine(3);
  EXPECT_EQ(machine["threads_used"], 3);
  EXPECT_GE(machine["logical_cores"].get<int>(), 1);
  EXPECT_TRUE(machine["cpu_model"].is_string());
  EXPECT_FALSE(machine["cpu_model"].get<std::string>().empty());  // Linux has /proc/cpuinfo
  ASSERT_TRUE(machine.contains("blas"));
  EXPECT_FALSE(machine["blas"]["loaded"]);  // this test links no BLAS
  EXPECT_TRUE(machine.contains("openblas_coretype"));
}

std::string TempPath() {
  return ::testing::TempDir() + "report-" + std::to_string(::getpid()) + "-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json";
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(BenchReport, WritesOneObjectWithFiguresMachineAndExitsZeroWhenAllHappened) {
  BenchReport report("test_bench");
  report.figures()["rows"] = {{{"seconds", 1.5}, {"clients", 10}}};
  EXPECT_TRUE(report.Require(true, "round committed"));
  EXPECT_TRUE(report.RequireFigure("/rows/0/seconds"));
  const std::string path = TempPath();
  EXPECT_EQ(report.Finish(path, 2), kExitOk);
  const nlohmann::json written = ReadJson(path);
  EXPECT_EQ(written["bench"], "test_bench");
  EXPECT_EQ(written["figures"]["rows"][0]["clients"], 10);
  EXPECT_EQ(written["machine"]["threads_used"], 2);
  EXPECT_TRUE(written["missing"].empty());
  std::remove(path.c_str());
}

// Any figure that is absent, -1, NaN, negative or not a number fails the run,
// whatever else in the report is fine.
TEST(BenchReport, AnUnmeasuredFigureFailsTheRun) {
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  const std::vector<nlohmann::json> bad = {-1, -0.5, std::nan(""), "PENDING", nullptr};
  for (int trial = 0; trial < 20; ++trial) {
    BenchReport report("test_bench");
    const int rows = 1 + static_cast<int>(rng() % 5);
    const int broken = static_cast<int>(rng() % rows);
    for (int r = 0; r < rows; ++r) {
      report.figures()["rows"][r]["seconds"] = r == broken ? bad[rng() % bad.size()]
                                                          : nlohmann::json(0.25 * r);
    }
    for (int r = 0; r < rows; ++r) report.RequireFigure("/rows/" + std::to_string(r) + "/seconds");
    report.RequireFigure("/rows/" + std::to_string(rows) + "/seconds");  // absent
    ASSERT_EQ(report.missing().size(), 2u) << "trial " << trial;
    EXPECT_NE(report.missing()[0].find("/rows/" + std::to_string(broken)), std::string::npos);
    const std::string path = TempPath();
    EXPECT_EQ(report.Finish(path, 1), kExitWorkMissing);
    EXPECT_EQ(ReadJson(path)["missing"].size(), 2u);
    std::remove(path.c_str());
  }
}

TEST(BenchReport, WorkThatDidNotHappenFailsTheRunAndIsNamed) {
  BenchReport report("test_bench");
  EXPECT_FALSE(report.Require(false, "round 2 committed"));
  ASSERT_EQ(report.missing().size(), 1u);
  EXPECT_EQ(report.missing()[0], "round 2 committed");
  const std::string path = TempPath();
  EXPECT_EQ(report.Finish(path, 1), kExitWorkMissing);
  std::remove(path.c_str());
}

TEST(BenchReport, AnUnwritableFileFailsTheRun) {
  BenchReport report("test_bench");
  EXPECT_EQ(report.Finish("/nonexistent-folder/report.json", 1), kExitWorkMissing);
}

}  // namespace
}  // namespace tacit::bench
