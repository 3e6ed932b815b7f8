// ClientCompletedState alone: every message is refused as out of phase.

#include "secure_agg/client/completed_state.h"

#include "gtest/gtest.h"

namespace tacit::secagg {
namespace {

TEST(ClientCompletedState, RefusesEveryMessage) {
  ClientCompletedState state;
  EXPECT_EQ(state.phase(), ClientPhase::kCompleted);
  v1::SecAggServerToClient m;
  m.mutable_unmasking_request()->add_survivor_ids(1);
  auto t = state.Handle(m);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("unmasking_request (unmasking)"), std::string::npos)
      << t.status();
  EXPECT_EQ(state.Handle(v1::SecAggServerToClient()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tacit::secagg
