#pragma once

// Before the round starts: takes no client messages. Advance() sends every
// cohort member its SecAggRoundStart (common parameters and its neighbours).
// Next: ServerAdvertiseKeysState.

#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

class ServerNotStartedState final : public ServerState {
 public:
  explicit ServerNotStartedState(std::shared_ptr<const ServerRound> round)
      : ServerState(std::move(round), {}, {}) {}
  ServerPhase phase() const override { return ServerPhase::kNotStarted; }
  absl::StatusOr<Transition> Advance() override;

 protected:
  std::optional<Phase> protocol_phase() const override { return std::nullopt; }
};

}  // namespace tacit::secagg
