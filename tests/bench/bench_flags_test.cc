// Every bench binary (model_bench aside: the "speed" work owns it) refuses a
// flag it does not know with exit code 2, before doing any work, and prints
// its usage for --help with exit code 0: a typo must never run the default
// benchmark and report it as what was asked for.

#include <string>

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
                                           "client_data_stats"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

}  // namespace
}  // namespace tacit
