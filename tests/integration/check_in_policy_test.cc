// A laptop decides on its own whether to check in, and tells the
// coordinator nothing about why not: while the owner has paused training,
// while it is ineligible, and once its daily cap of rounds is reached, the
// real coordinator receives no message at all from it. The control at the
// end (the same laptop, eligible) shows the recording would have seen it.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "client/runtime/audit_log.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_ledger.h"
#include "common/file_io.h"
#include "task/task_config.h"
#include "tests/integration/recorded_coordinator.h"

namespace tacit::testing {
namespace {

size_t MessagesFrom(const RecordedCoordinator& coordinator, const std::string& device) {
  const auto wire = coordinator.recorder().ByDevice();
  return wire.count(device) == 0 ? 0 : wire.at(device).size();
}

// Runs the laptop's daemon (a check every second, Fleet::StartClient) until
// it reports `state`, three checks longer, then stops it.
void RunUntilState(Fleet& fleet, const std::string& device, const std::string& state,
                   const std::vector<std::string>& readings) {
  auto client = fleet.StartClient(device, readings);
  EXPECT_TRUE(
      WaitUntil(20, [&] { return fleet.ClientProgress(device).value("state", "") == state; }))
      << fleet.ClientProgress(device).dump() << ReadFile(fleet.LogPath(device));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  client->Kill(SIGTERM);
  EXPECT_EQ(client->Wait(10), 0) << ReadFile(fleet.LogPath(device));
}

TEST(CheckInPolicy, APausedIneligibleOrCappedLaptopSendsNothing) {
  Fleet fleet("check-in-policy");
  const std::string task = fleet.WriteTask(nlohmann::json::object());
  fleet.AddDevice("laptop", 0, 600);
  const std::string dir = fleet.ClientDir("laptop");
  RecordedCoordinator coordinator(fleet, task);
  ASSERT_NE(coordinator.server(), nullptr);
  // Eligible under the default requirements (no task seen yet): AC, idle,
  // battery full; the network is unmetered unless NetworkManager says so.
  const std::vector<std::string> eligible = {
      "--ac-power",        "yes", "--idle-minutes",    "60",
      "--battery-percent", "100", "--unknown-network", "unmetered"};

  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "pause"}, nullptr), 0);
  RunUntilState(fleet, "laptop", "paused", eligible);
  EXPECT_EQ(MessagesFrom(coordinator, "laptop"), 0u);

  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "resume"}, nullptr), 0);
  std::vector<std::string> busy = eligible;
  busy[3] = "0";  // the owner is typing: idle for 0 minutes
  RunUntilState(fleet, "laptop", "ineligible", busy);
  EXPECT_EQ(MessagesFrom(coordinator, "laptop"), 0u);

  std::ofstream(dir + "/" + runtime::kParticipationPolicyFile) << R"({"max_rounds_per_day": 1})";
  runtime::AuditEntry joined;
  joined.round = 1;
  joined.sent = {{"advertise_keys", 70}};
  joined.outcome = "committed";
  ASSERT_TRUE(runtime::AppendAudit(dir, joined).ok());
  RunUntilState(fleet, "laptop", "daily cap reached", eligible);
  EXPECT_EQ(MessagesFrom(coordinator, "laptop"), 0u);

  // The control: the same laptop, eligible and under its cap, checks in.
  std::ofstream(dir + "/" + runtime::kParticipationPolicyFile) << R"({"max_rounds_per_day": 2})";
  auto client = fleet.StartClient("laptop", eligible);
  EXPECT_TRUE(WaitUntil(20, [&] { return MessagesFrom(coordinator, "laptop") > 0; }))
      << ReadFile(fleet.LogPath("laptop"));
}

// Issue 19: a laptop with no usable data (new, or after `erase --all`) took a
// seat and then declined, so the rest of the cohort waited for the deadline
// every round. It must say why in its status and never check in.
TEST(CheckInPolicy, ALaptopWithoutTrainingDataSendsNothing) {
  Fleet fleet("check-in-no-data");
  const std::string task = fleet.WriteTask(nlohmann::json::object());
  fleet.AddDevice("empty", 0, 0);
  RecordedCoordinator coordinator(fleet, task);
  ASSERT_NE(coordinator.server(), nullptr);
  const std::vector<std::string> eligible = {
      "--ac-power",        "yes", "--idle-minutes",    "60",
      "--battery-percent", "100", "--unknown-network", "unmetered"};
  RunUntilState(fleet, "empty", "no training data", eligible);
  EXPECT_EQ(MessagesFrom(coordinator, "empty"), 0u);
  // Its log says why and what to do.
  const std::string log = ReadFile(fleet.LogPath("empty"));
  EXPECT_NE(log.find("not checking in (no training data)"), std::string::npos) << log;
  EXPECT_NE(log.find("tacit-client import"), std::string::npos) << log;
}

// The owner's privacy budget, against the real coordinator: a laptop whose
// ledger says one more round of the task it knows would pass its max_epsilon
// sends nothing at all, says so in its status and log, and checks in again
// once the owner raises the budget.
TEST(CheckInPolicy, ALaptopPastItsPrivacyBudgetSendsNothing) {
  Fleet fleet("privacy-budget");
  const std::string task_path = fleet.WriteTask({{"dp", {{"noise_multiplier", 1.0}}}});
  fleet.AddDevice("laptop", 0, 600);
  const std::string dir = fleet.ClientDir("laptop");
  RecordedCoordinator coordinator(fleet, task_path);
  ASSERT_NE(coordinator.server(), nullptr);
  const std::vector<std::string> eligible = {
      "--ac-power",        "yes", "--idle-minutes",    "60",
      "--battery-percent", "100", "--unknown-network", "unmetered"};
  // The laptop has seen the task (the daemon keeps the last assignment's)
  // and taken part in two of its rounds: at z = 1 and q = 1 that is epsilon
  // 7.828 at delta 1e-6 (RDP), and a third round would make it 9.85, past 8.
  absl::StatusOr<TaskConfig> task = LoadTaskConfigFile(task_path);
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(MakeDirectories(dir + "/model", 0700).ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/model/task.json", TaskConfigToJson(*task).dump(2), 0600).ok());
  for (int round = 1; round <= 2; ++round) {
    ASSERT_TRUE(runtime::AppendParticipation(
                    dir, runtime::ParticipationOf(*task, round, round, round - 1, 0.5, -1))
                    .ok());
  }
  std::ofstream(dir + "/" + runtime::kParticipationPolicyFile) << R"({"max_epsilon": 8})";
  RunUntilState(fleet, "laptop", "privacy budget spent", eligible);
  EXPECT_EQ(MessagesFrom(coordinator, "laptop"), 0u);
  // The daemon said why (its status file held it while it ran; it reads
  // "stopped" now), once, in its log.
  const std::string log = ReadFile(fleet.LogPath("laptop"));
  EXPECT_NE(log.find("not checking in (privacy budget spent)"), std::string::npos) << log;
  EXPECT_NE(log.find("past max_epsilon 8"), std::string::npos) << log;
  std::string shown;
  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "privacy"}, &shown), 0);
  EXPECT_NE(shown.find("2 round(s) taken part in"), std::string::npos) << shown;
  EXPECT_NE(shown.find("budget left"), std::string::npos) << shown;

  // The control: a larger budget, and the same laptop checks in.
  std::ofstream(dir + "/" + runtime::kParticipationPolicyFile) << R"({"max_epsilon": 100})";
  auto client = fleet.StartClient("laptop", eligible);
  EXPECT_TRUE(WaitUntil(20, [&] { return MessagesFrom(coordinator, "laptop") > 0; }))
      << ReadFile(fleet.LogPath("laptop"));
}

// Random check-ins, enforced by the laptop: with a coin that says "sit out"
// (p = 1e-9) the daemon sends the real coordinator nothing for the window,
// and re-checking every second never flips the window's coin again.
TEST(CheckInPolicy, ALaptopWhoseCoinSaysSitOutSendsNothingAndFlipsOnce) {
  Fleet fleet("random-check-in");
  const std::string task_path = fleet.WriteTask({{"dp",
                                                  {{"noise_multiplier", 1.0},
                                                   {"sampling", "random_check_in"},
                                                   {"check_in_probability", 1e-9},
                                                   {"check_in_window_seconds", 3600}}}});
  fleet.AddDevice("laptop", 0, 600);
  const std::string dir = fleet.ClientDir("laptop");
  RecordedCoordinator coordinator(fleet, task_path);
  ASSERT_NE(coordinator.server(), nullptr);
  absl::StatusOr<TaskConfig> task = LoadTaskConfigFile(task_path);
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(MakeDirectories(dir + "/model", 0700).ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/model/task.json", TaskConfigToJson(*task).dump(2), 0600).ok());
  RunUntilState(fleet, "laptop", "sitting out this window",
                {"--ac-power", "yes", "--idle-minutes", "60", "--battery-percent", "100",
                 "--unknown-network", "unmetered"});
  EXPECT_EQ(MessagesFrom(coordinator, "laptop"), 0u);
  absl::StatusOr<runtime::Ledger> ledger = runtime::ReadLedger(dir);
  ASSERT_TRUE(ledger.ok());
  // One window (unless the test straddled an hour boundary), one coin each.
  ASSERT_GE(ledger->coins.size(), 1u);
  ASSERT_LE(ledger->coins.size(), 2u);
  for (const runtime::CoinRecord& coin : ledger->coins) EXPECT_FALSE(coin.offered);
  if (ledger->coins.size() == 2) {
    EXPECT_NE(ledger->coins[0].window, ledger->coins[1].window);
  }
  EXPECT_NE(ReadFile(fleet.LogPath("laptop")).find("random check-in"), std::string::npos);
}

}  // namespace
}  // namespace tacit::testing
