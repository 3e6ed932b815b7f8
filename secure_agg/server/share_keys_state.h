#pragma once

// Collects each client's encrypted Shamir shares, exactly one for every
// advertised neighbour, and holds them by recipient in fixed 128-byte records
// (HeldShare). Advance() needs at least threshold senders and builds each
// client's delivery from the senders that completed this phase, moving a
// recipient's records into the outbox (ServerMessages::ShareDeliveries, built
// into a message only when fetched). Next:
// ServerMaskedInputState.

#include <array>
#include <map>
#include <set>
#include <vector>

#include "secure_agg/server/server_state.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {

class ServerShareKeysState final : public ServerState {
 public:
  // `expected`: the clients that advertised keys (`keys`).
  ServerShareKeysState(std::shared_ptr<const ServerRound> round, std::set<uint32_t> expected,
                       Bytes session_id, SharedKeys keys)
      : ServerState(std::move(round), std::move(expected), std::move(session_id)),
        keys_(std::move(keys)) {}
  ServerPhase phase() const override { return ServerPhase::kShareKeys; }
  absl::StatusOr<Transition> Advance() override;

  // Shares held for `recipient` (for tests and memory accounting).
  size_t HeldSharesFor(uint32_t recipient) const;

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kShareKeys; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  SharedKeys keys_;
  std::map<uint32_t, std::vector<HeldShare>> inbox_;  // by recipient
};

}  // namespace tacit::secagg
