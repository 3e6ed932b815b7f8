#pragma once

// Waits for SecAggConsistencyCheck (Bonawitz et al. 2017, Sec. 6): the one
// list of clients whose masked input the server says is in the sum (U3). The
// client checks the list (strictly increasing, lists this client, at least
// threshold long, and at least threshold of this client's share holders on
// it), signs it with its identity and replies SecAggConsistencyResponse. It
// reveals nothing here. The unmasking state that follows holds the server to
// this list: every share it reveals must agree with it, and threshold of the
// client's share holders must have signed the same list.
// Next: ClientUnmaskingState.

#include <cstdint>
#include <memory>
#include <vector>

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientConsistencyCheckState final : public ClientState {
 public:
  ClientConsistencyCheckState(std::shared_ptr<ClientEnvironment> env, RoundContext ctx,
                              HeldShares held)
      : env_(std::move(env)), ctx_(std::move(ctx)), held_(std::move(held)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingConsistencyCheck; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;

  const RoundContext& context() const { return ctx_; }
  const HeldShares& held() const { return held_; }

 private:
  std::shared_ptr<ClientEnvironment> env_;
  RoundContext ctx_;
  HeldShares held_;  // includes this client's own shares
};

}  // namespace tacit::secagg
