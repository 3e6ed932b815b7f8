#pragma once

// Waits for SecAggUnmaskingRequest and answers it with this client's shares:
// the self-mask share of every survivor and the masking-key share of every
// dropped client. It refuses (PermissionDenied) any request that would reveal
// both secrets of one client, or its own masking key after it sent its masked
// input, or that disagrees with the survivor list this client signed in the
// consistency check (a survivor asked for not on it, a dropped client asked
// for on it). With an identity verifier it checks every forwarded neighbour
// signature over that same list (Unauthenticated when one fails: the server
// showed clients different lists) and aborts (Aborted) unless this client and
// the neighbours that signed number at least threshold. It aborts too when
// fewer than threshold survivors are listed, since the round cannot complete.
// Next: ClientCompletedState.

#include <memory>
#include <vector>

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientUnmaskingState final : public ClientState {
 public:
  // `signed_survivors`: the list this client signed (strictly increasing).
  ClientUnmaskingState(std::shared_ptr<ClientEnvironment> env, RoundContext ctx, HeldShares held,
                       std::vector<uint32_t> signed_survivors)
      : env_(std::move(env)),
        ctx_(std::move(ctx)),
        held_(std::move(held)),
        signed_survivors_(std::move(signed_survivors)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingUnmasking; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;

  const RoundContext& context() const { return ctx_; }
  const HeldShares& held() const { return held_; }

 private:
  // Unauthenticated or Aborted as above; OK when no verifier is set.
  absl::Status CheckSurvivorSignatures(const v1::SecAggUnmaskingRequest& request) const;
  bool SignedAsSurvivor(uint32_t id) const;

  std::shared_ptr<ClientEnvironment> env_;
  RoundContext ctx_;
  HeldShares held_;
  std::vector<uint32_t> signed_survivors_;
};

}  // namespace tacit::secagg
