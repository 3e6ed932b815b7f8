// sim_bench: a measurement whose work did not happen is in the report's
// "missing" and the run exits 1 with the report written, where sim_bench used
// to return 1 early and write no report at all.

#include "bench/simulations/sim_bench_stages.h"

#include <unistd.h>

#include <random>
#include <string>

#include "bench/common/flags.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "gtest/gtest.h"

namespace tacit::bench {
namespace {

// A report run to its end into a temporary file: the exit code and the JSON.
std::pair<int, nlohmann::json> Finished(BenchReport& report) {
  char pattern[] = "/tmp/tacit_sim_bench_XXXXXX";
  const int fd = ::mkstemp(pattern);
  EXPECT_GE(fd, 0);
  ::close(fd);
  const int code = report.Finish(pattern, 0);
  auto text = ReadFileToString(pattern);
  ::unlink(pattern);
  EXPECT_TRUE(text.ok()) << text.status();
  auto json = ParseJson(text.ok() ? *text : "", "report");
  EXPECT_TRUE(json.ok()) << json.status();
  return {code, json.ok() ? *json : nlohmann::json()};
}

TEST(SimBenchStages, OverheadWithoutEnoughPeopleIsReportedMissing) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 5; ++trial) {
    const int cohort = 3 + static_cast<int>(rng() % 8);
    std::vector<PersonTokens> fleet(rng() % (2 * cohort));  // always short of 2 * cohort
    BenchReport report("sim_bench");
    MeasureRoundOverhead(fleet, 2, cohort, report);
    report.RequireFigure("/rounds/median_round_wall_seconds");
    const auto [code, json] = Finished(report);
    EXPECT_EQ(code, kExitWorkMissing);
    ASSERT_TRUE(json.contains("missing")) << json.dump();
    ASSERT_EQ(json["missing"].size(), 2u) << json.dump();
    EXPECT_NE(json["missing"][0].get<std::string>().find("people to run them on"),
              std::string::npos)
        << json.dump();
    EXPECT_FALSE(json["figures"].contains("rounds"));
  }
}

TEST(SimBenchStages, AFailedSimulationIsReportedMissing) {
  // People without tokens: the simulation runs and fails (nobody can train),
  // and the report says so instead of the bench returning without one.
  BenchReport report("sim_bench");
  MeasureRoundOverhead(std::vector<PersonTokens>(6), 1, 3, report);
  const auto [code, json] = Finished(report);
  EXPECT_EQ(code, kExitWorkMissing);
  EXPECT_FALSE(json["missing"].empty()) << json.dump();
}

// A small sim_bench: both measurements happen and their figures are sane:
// idle generated people cost under the 64 bytes each, and the cohort's
// throughput is a positive, finite number of updates per second per core.
TEST(SimBenchStages, ASmallRunReportsMemoryPerIdlePersonAndUpdatesPerSecondPerCore) {
  BenchReport report("sim_bench");
  MeasureIdlePeople(200000, report);
  MeasureRoundOverhead(BenchFleet(6, report), 1, 3, report);
  report.RequireFigure("/population/bytes_per_idle_person");
  report.RequireFigure("/rounds/updates_per_second_per_core");
  const auto [code, json] = Finished(report);
  ASSERT_EQ(code, 0) << json.dump();
  const nlohmann::json& population = json["figures"]["population"];
  EXPECT_EQ(population["people"], 200000);
  EXPECT_GE(population["bytes_per_idle_person"].get<double>(), 0.0);
  EXPECT_LT(population["bytes_per_idle_person"].get<double>(), 64.0) << population.dump();
  EXPECT_GT(population["tokens_per_person"].get<double>(), 100) << "a real person was generated";
  const nlohmann::json& rounds = json["figures"]["rounds"];
  EXPECT_EQ(rounds["updates_trained"].get<double>(), 3.0) << rounds.dump();
  const double per_core = rounds["updates_per_second_per_core"].get<double>();
  EXPECT_GT(per_core, 0.0);
  EXPECT_LT(per_core, 1e6) << "a GRU update takes more than a microsecond";
  EXPECT_GE(rounds["cores"].get<int>(), 1);
}

}  // namespace
}  // namespace tacit::bench
