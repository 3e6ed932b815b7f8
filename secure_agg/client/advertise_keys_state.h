#pragma once

// The first state: waits for SecAggRoundStart, checks the round's parameters
// against the client's policy, draws two X25519 key pairs and the self-mask
// seed from the client's RandomSource, and replies SecAggAdvertiseKeys.
// Next: ClientShareKeysState.

#include <memory>

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientAdvertiseKeysState final : public ClientState {
 public:
  explicit ClientAdvertiseKeysState(std::shared_ptr<ClientEnvironment> env)
      : env_(std::move(env)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingRoundStart; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;

 private:
  std::shared_ptr<ClientEnvironment> env_;
};

}  // namespace tacit::secagg
