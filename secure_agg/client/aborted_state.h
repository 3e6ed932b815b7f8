#pragma once

// The client's round is aborted (it received a bad or malicious message, or the
// round could not complete): every later message is refused
// (FailedPrecondition, naming the reason) and nothing changes.

#include "secure_agg/client/client_state.h"

namespace tacit::secagg {

class ClientAbortedState final : public ClientState {
 public:
  explicit ClientAbortedState(absl::Status reason) : reason_(std::move(reason)) {}
  ClientPhase phase() const override { return ClientPhase::kAborted; }
  absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) override;
  // Why the round was aborted.
  const absl::Status& reason() const { return reason_; }

 private:
  absl::Status reason_;
};

}  // namespace tacit::secagg
