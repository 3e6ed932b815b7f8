#pragma once

// Waits for SecAggUnmaskingRequest and answers it with this client's shares:
// the self-mask share of every survivor and the masking-key share of every
// dropped client. It refuses (PermissionDenied) any request that would reveal
// both secrets of one client, or its own masking key after it sent its masked
// input, and aborts (Aborted) when fewer than threshold survivors are listed,
// since the round cannot complete. Next: ClientCompletedState.

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientUnmaskingState final : public ClientState {
 public:
  ClientUnmaskingState(RoundContext ctx, HeldShares held)
      : ctx_(std::move(ctx)), held_(std::move(held)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingUnmasking; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;

  const RoundContext& context() const { return ctx_; }
  const HeldShares& held() const { return held_; }

 private:
  RoundContext ctx_;
  HeldShares held_;
};

}  // namespace tacit::secagg
