#include "secure_agg/server/failed_state.h"

#include "absl/strings/str_cat.h"

namespace tacit::secagg {

absl::StatusOr<ServerState::Transition> ServerFailedState::Advance() {
  return absl::FailedPreconditionError(absl::StrCat(
      "the round already failed (", reason_.ToString(), "); retry with a new SecAggServer"));
}

}  // namespace tacit::secagg
