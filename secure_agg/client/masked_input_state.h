#pragma once

// Waits for SecAggSharesDelivery: opens every share addressed to this client
// (AES-GCM; a tampered one is DataLoss), refuses to go on when fewer than
// threshold - 1 neighbours shared, quantizes the input (stochastic rounding
// keyed by ClientConfig::rounding_key or a key drawn from the RandomSource),
// adds the self mask and one pairwise mask per neighbour that shared, and
// replies SecAggMaskedInput. The masking key, self-mask seed and encryption key
// are wiped once the masked vector is built. Next: ClientConsistencyCheckState.

#include <memory>

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientMaskedInputState final : public ClientState {
 public:
  ClientMaskedInputState(std::shared_ptr<ClientEnvironment> env, RoundContext ctx,
                         DecodedShares own)
      : env_(std::move(env)), ctx_(std::move(ctx)), own_(std::move(own)) {}
  ~ClientMaskedInputState() override { WipeShares(own_); }
  ClientPhase phase() const override { return ClientPhase::kAwaitingShares; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;

  const RoundContext& context() const { return ctx_; }

 private:
  std::shared_ptr<ClientEnvironment> env_;
  RoundContext ctx_;
  DecodedShares own_;  // this client's shares of its own two secrets
};

}  // namespace tacit::secagg
