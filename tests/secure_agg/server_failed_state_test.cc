// ServerFailedState alone: everything is refused, naming the reason.

#include "secure_agg/server/failed_state.h"

#include "gtest/gtest.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

TEST(ServerFailedState, RefusesEverythingNamingTheReason) {
  ServerFailedState state(testing::MakeRound(testing::SmallConfig()),
                          absl::AbortedError("only 2 clients answered"));
  EXPECT_EQ(state.phase(), ServerPhase::kFailed);
  EXPECT_EQ(state.reason().code(), absl::StatusCode::kAborted);
  auto m = testing::ClientMessage(7, {});
  m.mutable_masked_input();
  EXPECT_EQ(state.HandleClientMessage(1, m).code(), absl::StatusCode::kFailedPrecondition);
  auto advance = state.Advance();
  EXPECT_EQ(advance.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(advance.status().message().find("only 2 clients answered"), std::string::npos);
  EXPECT_TRUE(state.PendingClients().empty());
}

}  // namespace
}  // namespace tacit::secagg
