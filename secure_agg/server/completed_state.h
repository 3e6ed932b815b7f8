#pragma once

// The round completed (AdvancePhase returned the result): no more client
// messages, no more phases.

#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

class ServerCompletedState final : public ServerState {
 public:
  explicit ServerCompletedState(std::shared_ptr<const ServerRound> round)
      : ServerState(std::move(round), {}, {}) {}
  ServerPhase phase() const override { return ServerPhase::kCompleted; }
  absl::StatusOr<Transition> Advance() override;

 protected:
  std::optional<Phase> protocol_phase() const override { return std::nullopt; }
};

}  // namespace tacit::secagg
