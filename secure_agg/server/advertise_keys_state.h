#pragma once

// Collects every cohort member's two X25519 public keys, refusing (so
// dropping) a client whose keys are small-order, equal to each other or equal
// to a key another client advertised. Advance() needs at
// least threshold of them, computes the session id over the round parameters
// and the advertised keys, and sends each client its own and its advertised
// neighbours' keys. Next: ServerShareKeysState.

#include <set>
#include <string>

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
  std::set<std::string> advertised_;  // every key accepted so far
  std::set<std::string> identities_;  // every identity accepted so far (with a verifier)
};

}  // namespace tacit::secagg
