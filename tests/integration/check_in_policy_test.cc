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

}  // namespace
}  // namespace tacit::testing
