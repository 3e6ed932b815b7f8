// ServerCompletedState alone: no messages, no more phases.

#include "secure_agg/server/completed_state.h"

#include "gtest/gtest.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

TEST(ServerCompletedState, AcceptsNothingMore) {
  ServerCompletedState state(testing::MakeRound(testing::SmallConfig()));
  EXPECT_EQ(state.phase(), ServerPhase::kCompleted);
  auto m = testing::ClientMessage(7, {});
  m.mutable_unmasking_response();
  EXPECT_EQ(state.HandleClientMessage(1, m).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state.HandleClientMessage(42, m).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(state.Advance().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(state.PendingClients().empty());
}

TEST(ServerPhaseNames, ComeFromTheOnePhaseTable) {
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kAdvertiseKeys), "advertise_keys");
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kShareKeys), "share_keys");
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kMaskedInput), "masked_input");
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kUnmasking), "unmasking");
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kNotStarted), "not_started");
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kCompleted), "completed");
  EXPECT_STREQ(ServerPhaseName(ServerPhase::kFailed), "failed");
  EXPECT_FALSE(ProtocolPhaseOf(ServerPhase::kFailed).has_value());
}

}  // namespace
}  // namespace tacit::secagg
