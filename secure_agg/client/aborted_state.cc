#include "secure_agg/client/aborted_state.h"

#include "absl/strings/str_cat.h"

namespace tacit::secagg {

absl::StatusOr<ClientState::Transition> ClientAbortedState::Handle(
    const v1::SecAggServerToClient& message) {
  return absl::FailedPreconditionError(
      absl::StrCat("the client aborted this round (", reason_.ToString(),
                   ") and accepts no more messages; got ", DescribeStep(message)));
}

}  // namespace tacit::secagg
