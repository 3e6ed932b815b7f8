#pragma once

// Waits for SecAggKeysBroadcast: checks the advertised keys (sizes, no repeats,
// only graph neighbours, this client's own keys unchanged), the threshold
// against the client's policy and, with the complete graph, the session id;
// then splits its self-mask seed and masking key into Shamir shares (coefficients
// from the client's RandomSource) and replies SecAggShareKeys with one AES-GCM
// sealed share per neighbour (nonces from the same source).
// Next: ClientMaskedInputState.

#include <memory>

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientShareKeysState final : public ClientState {
 public:
  ClientShareKeysState(std::shared_ptr<ClientEnvironment> env, RoundContext ctx)
      : env_(std::move(env)), ctx_(std::move(ctx)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingKeys; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;

  const RoundContext& context() const { return ctx_; }

 private:
  std::shared_ptr<ClientEnvironment> env_;
  RoundContext ctx_;
};

}  // namespace tacit::secagg
