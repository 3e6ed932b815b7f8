#pragma once

// The round failed (too few clients, corrupted shares, or an internal error):
// everything it held has been freed, nothing more is accepted, and every call
// names the reason.

#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

class ServerFailedState final : public ServerState {
 public:
  ServerFailedState(std::shared_ptr<const ServerRound> round, absl::Status reason)
      : ServerState(std::move(round), {}, {}), reason_(std::move(reason)) {}
  ServerPhase phase() const override { return ServerPhase::kFailed; }
  absl::StatusOr<Transition> Advance() override;
  const absl::Status& reason() const { return reason_; }

 protected:
  std::optional<Phase> protocol_phase() const override { return std::nullopt; }

 private:
  absl::Status reason_;
};

}  // namespace tacit::secagg
