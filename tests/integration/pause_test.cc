// `tacit-client pause` stops a round in flight: a laptop seated in a real
// round (the real coordinator on loopback, three real clients beside it) is
// paused by the real command at a step drawn at random, and from that moment
// the coordinator receives nothing more from it: not the download, not a key,
// not the masked update, not even a poll for the result. Its audit line says
// it was paused and lists only what left before. The round commits without it.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "client/runtime/audit_log.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/round_runner.h"
#include "tests/integration/recorded_coordinator.h"
#include "tests/support/test_seed.h"

namespace tacit::testing {
namespace {

// Messages the device sent (requests and submissions), not what it received.
size_t SentBy(const RecordedCoordinator& coordinator, const std::string& device) {
  const auto wire = coordinator.recorder().ByDevice();
  if (wire.count(device) == 0) return 0;
  size_t sent = 0;
  for (const WireMessage& message : wire.at(device)) sent += message.from_device ? 1 : 0;
  return sent;
}

TEST(Pause, StopsTheRoundInFlightAndNothingMoreLeaves) {
  // Every step at which the round runner reports progress (on_phase); the
  // pause lands at one of them, drawn from a seed printed on failure.
  const std::vector<std::string> steps = {"downloading",
                                          "training",
                                          "trained, waiting for advertise_keys",
                                          "sent advertise_keys, waiting for share_keys",
                                          "sent share_keys, waiting for masked_input",
                                          "sent masked_input, waiting for consistency_check",
                                          "sent consistency_check, waiting for unmasking",
                                          "awaiting result"};
  const uint64_t seed = ::tacit::testing::TestSeed();
  const std::string pause_at = steps[seed % steps.size()];
  SCOPED_TRACE(::testing::Message()
               << "seed " << seed << " (TACIT_TEST_SEED replays it): pause at '" << pause_at
               << "'");

  Fleet fleet("pause");
  const std::string task = fleet.WriteTask({{"rounds", 1}});
  for (int i = 0; i < 4; ++i) fleet.AddDevice(i == 0 ? "laptop" : "d" + std::to_string(i), i, 1500);
  RecordedCoordinator coordinator(fleet, task);
  ASSERT_NE(coordinator.server(), nullptr);
  const std::string dir = fleet.ClientDir("laptop");
  auto stub = fleet.DeviceStub("laptop");
  const v1::Assignment assignment = SeatIn(*stub, 1);
  ASSERT_FALSE(assignment.session().empty());
  std::vector<std::unique_ptr<ChildProcess>> others;
  for (int i = 1; i < 4; ++i) others.push_back(fleet.StartClient("d" + std::to_string(i)));

  runtime::RoundRunnerOptions options;
  options.dir = dir;
  options.device_id = "laptop";
  absl::StatusOr<runtime::ParticipationPolicy> policy = runtime::LoadParticipationPolicy(dir);
  ASSERT_TRUE(policy.ok()) << policy.status();
  options.policy = *policy;
  size_t sent_before_pause = 0;
  bool paused = false;
  options.on_phase = [&](const std::string& progress) {
    if (paused || progress != pause_at) return;
    sent_before_pause = SentBy(coordinator, "laptop");
    std::string said;
    ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "pause"}, &said), 0) << said;
    paused = true;
  };
  absl::StatusOr<runtime::AuditEntry> audit = RunAssignedRound(*stub, assignment, options);
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_TRUE(paused) << "the round never reached '" << pause_at << "': " << audit->outcome;
  EXPECT_EQ(audit->outcome.rfind("paused: ", 0), 0u) << audit->outcome;
  // The wire as the employer's coordinator saw it: nothing after the pause.
  EXPECT_EQ(SentBy(coordinator, "laptop"), sent_before_pause);
  // The audit line (as the daemon writes it) lists only what left before.
  ASSERT_TRUE(runtime::AppendAudit(dir, *audit).ok());
  const std::vector<nlohmann::json> lines = AuditLines(dir);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["outcome"], audit->outcome);
  EXPECT_EQ(lines[0]["rpc"].value("download_model", nlohmann::json::object()).value("calls", 0) > 0,
            pause_at != "downloading");
  const size_t keys_sent = lines[0]["sent"].size();
  const size_t step_of_pause =
      static_cast<size_t>(std::find(steps.begin(), steps.end(), pause_at) - steps.begin());
  // Steps 0-2 precede the first submission; step k >= 3 follows k - 2 of them.
  EXPECT_EQ(keys_sent, step_of_pause < 3 ? 0 : step_of_pause - 2) << lines[0].dump();
  // The cohort's three others carry the round to its commit without it.
  for (auto& other : others) EXPECT_EQ(other->Wait(120), 0) << ReadFile(fleet.LogPath("d1"));
}

}  // namespace
}  // namespace tacit::testing
