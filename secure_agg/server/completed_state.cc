#include "secure_agg/server/completed_state.h"

namespace tacit::secagg {

absl::StatusOr<ServerState::Transition> ServerCompletedState::Advance() {
  return absl::FailedPreconditionError(
      "the round is already completed; start a new SecAggServer for the next round");
}

}  // namespace tacit::secagg
