// Every byte of a round is in its audit line, also when the round ends on
// the laptop after the model came down: the real coordinator on loopback
// seats the laptop, the model is downloaded, and the secure aggregation
// client cannot start. The round's entry counts exactly what the
// coordinator's wire shows the laptop sent and received in the round.

#include <gtest/gtest.h>

#include "client/runtime/audit_log.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/round_runner.h"
#include "tests/integration/recorded_coordinator.h"

namespace tacit::testing {
namespace {

struct WireBytes {
  int64_t up = 0, down = 0;
};

// The serialized bytes the coordinator saw from and to `device`.
WireBytes WireOf(const RecordedCoordinator& coordinator, const std::string& device) {
  WireBytes bytes;
  const auto wire = coordinator.recorder().ByDevice();
  if (wire.count(device) == 0) return bytes;
  for (const WireMessage& message : wire.at(device)) {
    (message.from_device ? bytes.up : bytes.down) += static_cast<int64_t>(message.bytes.size());
  }
  return bytes;
}

TEST(RoundAudit, ARoundThatCannotStartSecureAggregationCountsItsDownload) {
  Fleet fleet("round-audit");
  const std::string task = fleet.WriteTask({{"rounds", 1}});
  fleet.AddDevice("laptop", 0, 1500);
  RecordedCoordinator coordinator(fleet, task);
  ASSERT_NE(coordinator.server(), nullptr);
  const std::string dir = fleet.ClientDir("laptop");
  auto stub = fleet.DeviceStub("laptop");
  const v1::Assignment assignment = SeatIn(*stub, 1);
  ASSERT_FALSE(assignment.session().empty());
  const WireBytes before = WireOf(coordinator, "laptop");  // the check-ins

  runtime::RoundRunnerOptions options;
  options.dir = dir;
  options.device_id = "laptop";
  absl::StatusOr<runtime::ParticipationPolicy> policy = runtime::LoadParticipationPolicy(dir);
  ASSERT_TRUE(policy.ok()) << policy.status();
  options.policy = *policy;
  options.make_secagg_client = [](secagg::ClientConfig, std::vector<float>, double) {
    return absl::StatusOr<std::unique_ptr<secagg::SecAggClient>>(
        absl::InvalidArgumentError("weight must be a finite number >= 0"));
  };
  absl::StatusOr<runtime::AuditEntry> audit = RunAssignedRound(*stub, assignment, options);
  ASSERT_TRUE(audit.ok()) << "the downloaded bytes went unaudited: " << audit.status();
  EXPECT_EQ(audit->outcome.rfind("left: ", 0), 0u) << audit->outcome;
  EXPECT_NE(audit->outcome.find("weight must be"), std::string::npos) << audit->outcome;
  ASSERT_EQ(audit->rpc.by_rpc.count(runtime::kRpcDownloadModel), 1u);
  EXPECT_GE(audit->rpc.by_rpc.at(runtime::kRpcDownloadModel).calls, 1);
  EXPECT_TRUE(audit->sent.empty());
  const WireBytes after = WireOf(coordinator, "laptop");
  EXPECT_EQ(audit->rpc.up(), after.up - before.up);
  EXPECT_EQ(audit->rpc.down(), after.down - before.down);
  EXPECT_GT(audit->rpc.down(), 0);
}

}  // namespace
}  // namespace tacit::testing
