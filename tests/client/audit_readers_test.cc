// The two views of the audit log, SumAudit's totals (status, the daily cap,
// leave) and SummarizeAudit's rows per day and task (`tacit-client audit`,
// the privacy page), read each line through CountAuditLine: over random
// logs, with old lines without "kind", damaged fields and torn lines, the
// totals equal the rows' sums.

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "client/runtime/audit_log.h"
#include "client/runtime/audit_summary.h"
#include "nlohmann/json.hpp"
#include "tests/client/temp_dir.h"
#include "tests/support/test_seed.h"

namespace tacit::runtime {
namespace {

nlohmann::json RandomLine(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  nlohmann::json line;
  const bool round = pick(3) != 0;
  if (pick(5) != 0) line["kind"] = round ? "round" : "check_ins";
  if (round) line["round"] = pick(9);
  line["time"] = pick(6) == 0
                     ? nlohmann::json("garbled")
                     : nlohmann::json("2026-11-2" + std::to_string(pick(3)) + " 12:00:03 UTC");
  if (round && pick(4) != 0) line["task"] = pick(2) == 0 ? "a" : "b";
  line["bytes_up"] = pick(7) == 0 ? nlohmann::json("x") : nlohmann::json(pick(5000));
  line["bytes_down"] = pick(5000);
  nlohmann::json rpc = nlohmann::json::object();
  if (pick(2) == 0) rpc[kRpcCheckIn] = {{"calls", pick(4)}, {"up", 1}, {"down", 1}};
  if (pick(2) == 0) rpc[kRpcDownloadModel] = {{"calls", pick(3)}, {"up", 1}, {"down", 1}};
  line["rpc"] = pick(8) == 0 ? nlohmann::json::array() : rpc;
  if (round) {
    line["sent"] = nlohmann::json::array();
    if (pick(2) == 0) line["sent"].push_back({{"message", "advertise_keys"}, {"bytes", 70}});
    const char* outcomes[] = {"committed", "refused: policy", "paused: owner", "left: lost"};
    line["outcome"] = outcomes[pick(4)];
    if (pick(2) == 0) line["noise_multiplier"] = 1.1;
  }
  return line;
}

TEST(AuditReaders, TotalsEqualTheSumsOfTheRowsOverRandomLogs) {
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 20; ++trial) {
    testing::TempDir dir;
    {
      std::ofstream log(dir.File(kAuditLogFile));
      const int lines = static_cast<int>(rng() % 30);
      for (int i = 0; i < lines; ++i) {
        log << (rng() % 10 == 0 ? std::string("{\"torn") : RandomLine(rng).dump()) << "\n";
      }
    }
    absl::StatusOr<AuditTotals> totals = SumAudit(dir.path());
    ASSERT_TRUE(totals.ok()) << totals.status();
    absl::StatusOr<std::vector<AuditDay>> days = SummarizeAudit(dir.path(), 1e-6);
    ASSERT_TRUE(days.ok()) << days.status();
    AuditTotals summed;
    for (const AuditDay& day : *days) {
      summed.bytes_up += day.bytes_up;
      summed.bytes_down += day.bytes_down;
      summed.check_ins += day.check_ins;
      summed.rounds_joined += day.joined;
    }
    EXPECT_EQ(totals->bytes_up, summed.bytes_up);
    EXPECT_EQ(totals->bytes_down, summed.bytes_down);
    EXPECT_EQ(totals->check_ins, summed.check_ins);
    EXPECT_EQ(totals->rounds_joined, summed.rounds_joined);
  }
}

}  // namespace
}  // namespace tacit::runtime
