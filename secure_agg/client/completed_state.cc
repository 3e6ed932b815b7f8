#include "secure_agg/client/completed_state.h"

#include "absl/strings/str_cat.h"

namespace tacit::secagg {

absl::StatusOr<ClientState::Transition> ClientCompletedState::Handle(
    const v1::SecAggServerToClient& message) {
  return absl::FailedPreconditionError(
      absl::StrCat("the client's round is completed; it accepts no ", "more messages (got ",
                   DescribeStep(message), ")"));
}

}  // namespace tacit::secagg
