#pragma once

// The client's round is completed: every message is refused (FailedPrecondition)
// and nothing changes.

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientCompletedState final : public ClientState {
 public:
  ClientPhase phase() const override { return ClientPhase::kCompleted; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;
};

}  // namespace tacit::secagg
