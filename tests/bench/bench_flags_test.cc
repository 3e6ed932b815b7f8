// Every bench binary refuses a flag it does not know with exit code 2, before
// doing any work, and prints its usage for --help with exit code 0: a typo
// must never run the default benchmark and report it as what was asked for.
// And a bench whose work did not happen exits 1 and says what is missing.

#include <fstream>
#include <string>

#include "nlohmann/json.hpp"

#include "gtest/gtest.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"

namespace tacit {
namespace {

class BenchFlags : public ::testing::TestWithParam<const char*> {
 protected:
  std::string Binary() const { return ::tacit::testing::BinaryDir() + "/bench/" + GetParam(); }
};

TEST_P(BenchFlags, UnknownFlagExitsTwoBeforeAnyWork) {
  // A timeout would mean the bench ran its default workload anyway.
  const auto [output, code] =
      ::tacit::testing::Shell("timeout 20 " + Binary() + " --no-such-flag 2>&1");
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("no-such-flag"), std::string::npos) << output;
}

TEST_P(BenchFlags, HelpPrintsUsageAndExitsZero) {
  const auto [output, code] = ::tacit::testing::Shell("timeout 20 " + Binary() + " --help 2>&1");
  EXPECT_EQ(code, 0) << output;
  // client_data_stats is a tool that prints a table, not a JSON report.
  if (std::string(GetParam()) != "client_data_stats") {
    EXPECT_NE(output.find("--json"), std::string::npos) << "usage should list --json:\n" << output;
  }
  EXPECT_GT(output.size(), 100u) << "a usage text, not an empty line:\n" << output;
}

INSTANTIATE_TEST_SUITE_P(EveryBench, BenchFlags,
                         ::testing::Values("secagg_bench", "coordinator_bench", "privacy_bench",
                                           "federation_load_bench", "sim_bench",
                                           "client_population_bench", "client_store_bench",
                                           "client_data_stats", "model_bench"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

// A cohort of 3 that the coordinator runs (min_survivors 3) but every laptop
// refuses (its default min_cohort_size is 4): no round commits, and the bench
// must exit 1 naming why, with the missing figures in its report.
TEST(FederationLoadBench, ExitsOneWhenNoRoundCommits) {
  const std::string dir = ::tacit::testing::BinaryDir();
  const std::string json = ::testing::TempDir() + "/federation_load_refused.json";
  const auto [output, code] = ::tacit::testing::Shell(
      "timeout 100 " + dir + "/bench/federation_load_bench --clients 3 --min-survivors 3 " +
      "--rounds 1 --vocab 64 --embedding 8 --hidden 8 --window 8 --train-tokens 32 " +
      "--give-up-seconds 5 --coordinator " + dir + "/bin/tacit-coordinator --json " + json);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("round 1 committed on the coordinator"), std::string::npos) << output;
  EXPECT_NE(output.find("below this laptop's min_cohort_size of 4"), std::string::npos) << output;
  std::ifstream in(json);
  ASSERT_TRUE(in) << "no report at " << json;
  const nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << "the report is not JSON";
  ASSERT_TRUE(report.contains("missing"));
  EXPECT_GE(report["missing"].size(), 2u) << report.dump(2);
}

// Ten clients upload 2.5 MiB masked inputs at once against a 4 MiB transport
// quota: honoured as asked, the half-received inputs fill the quota, gRPC
// closes the flow-control windows and the masked-input phase never ends
// (measured: 10 minutes idle). The coordinator raises the quota to the
// cohort's uploads in flight, so both rounds commit within seconds.
TEST(FederationLoadBench, ATransportQuotaBelowTheCohortsUploadsDoesNotStallTheRound) {
  const std::string dir = ::tacit::testing::BinaryDir();
  const std::string json = ::testing::TempDir() + "/federation_load_quota.json";
  const auto [output, code] = ::tacit::testing::Shell(
      "timeout 150 " + dir + "/bench/federation_load_bench --clients 10 --rounds 2 " +
      "--grpc-memory-mib 4 --phase-seconds 30 --give-up-seconds 60 --coordinator " + dir +
      "/bin/tacit-coordinator --json " + json + " 2>&1");
  ASSERT_EQ(code, 0) << output;
  std::ifstream in(json);
  ASSERT_TRUE(in) << "no report at " << json;
  const nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << "the report is not JSON";
  const nlohmann::json rounds = report["figures"]["rows"][0]["rounds"];
  ASSERT_EQ(rounds.size(), 2u) << report.dump(2);
  for (const nlohmann::json& round : rounds) {
    EXPECT_GE(round["phase_seconds"]["masked_input"].get<double>(), 0) << round.dump(2);
    EXPECT_LT(round["phase_seconds"]["masked_input"].get<double>(), 30) << round.dump(2);
  }
}

}  // namespace
}  // namespace tacit
