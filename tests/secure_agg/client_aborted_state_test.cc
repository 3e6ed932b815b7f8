// ClientAbortedState alone: every message is refused and the refusal names
// why the round was aborted.

#include "secure_agg/client/aborted_state.h"

#include "gtest/gtest.h"

namespace tacit::secagg {
namespace {

TEST(ClientAbortedState, RefusesEveryMessageNamingTheReason) {
  ClientAbortedState state(absl::DataLossError("share from 3 failed authentication"));
  EXPECT_EQ(state.phase(), ClientPhase::kAborted);
  EXPECT_EQ(state.reason().code(), absl::StatusCode::kDataLoss);
  v1::SecAggServerToClient m;
  m.mutable_round_start();
  auto t = state.Handle(m);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("share from 3 failed authentication"), std::string::npos)
      << t.status();
}

TEST(ClientPhaseNames, ComeFromTheOnePhaseTable) {
  EXPECT_STREQ(ClientPhaseName(ClientPhase::kAwaitingRoundStart), "awaiting advertise_keys");
  EXPECT_STREQ(ClientPhaseName(ClientPhase::kAwaitingKeys), "awaiting share_keys");
  EXPECT_STREQ(ClientPhaseName(ClientPhase::kAwaitingShares), "awaiting masked_input");
  EXPECT_STREQ(ClientPhaseName(ClientPhase::kAwaitingUnmasking), "awaiting unmasking");
  EXPECT_STREQ(ClientPhaseName(ClientPhase::kCompleted), "completed");
  EXPECT_STREQ(ClientPhaseName(ClientPhase::kAborted), "aborted");
  EXPECT_EQ(ProtocolPhaseOf(ClientPhase::kAwaitingShares), Phase::kMaskedInput);
  EXPECT_FALSE(ProtocolPhaseOf(ClientPhase::kAborted).has_value());
}

}  // namespace
}  // namespace tacit::secagg
