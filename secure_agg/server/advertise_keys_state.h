#pragma once

// Collects every cohort member's two X25519 public keys. Advance() needs at
// least threshold of them, computes the session id over the round parameters
// and the advertised keys, and sends each client its own and its advertised
// neighbours' keys. Next: ServerShareKeysState.

#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

class ServerAdvertiseKeysState final : public ServerState {
 public:
  explicit ServerAdvertiseKeysState(std::shared_ptr<const ServerRound> round)
      : ServerState(round, round->cohort, {}) {}
  ServerPhase phase() const override { return ServerPhase::kAdvertiseKeys; }
  absl::StatusOr<Transition> Advance() override;

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kAdvertiseKeys; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  PublicKeyMap keys_;
};

}  // namespace tacit::secagg
