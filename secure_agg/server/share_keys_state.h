#pragma once

// Collects each client's encrypted Shamir shares, exactly one for every
// advertised neighbour, as fixed 128-byte records (HeldShare) in the round's
// ShareSpool, and holds by recipient only the records' numbers. Advance()
// needs at least threshold senders and builds each client's delivery from
// the senders that completed this phase, moving a recipient's record numbers
// into the outbox (ServerMessages::ShareDeliveries, read back and built into
// a message only when fetched). Next: ServerMaskedInputState.

#include <array>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "secure_agg/server/server_state.h"
#include "secure_agg/shamir.h"
#include "secure_agg/share_spool.h"

namespace tacit::secagg {

class ServerShareKeysState final : public ServerState {
 public:
  // `expected`: the clients that advertised keys (`keys`); `spool`: where
  // their shares are held.
  ServerShareKeysState(std::shared_ptr<const ServerRound> round, std::set<uint32_t> expected,
                       Bytes session_id, SharedKeys keys, std::shared_ptr<ShareSpool> spool)
      : ServerState(std::move(round), std::move(expected), std::move(session_id)),
        keys_(std::move(keys)),
        spool_(std::move(spool)) {}
  ServerPhase phase() const override { return ServerPhase::kShareKeys; }
  absl::StatusOr<Transition> Advance() override;

  // Shares held for `recipient` (for tests and memory accounting).
  size_t HeldSharesFor(uint32_t recipient) const;

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kShareKeys; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  // The sender of spool record `record` (each sender's records are
  // consecutive: one Append per message).
  uint32_t SenderOf(uint32_t record) const;

  SharedKeys keys_;
  std::shared_ptr<ShareSpool> spool_;
  std::map<uint32_t, std::vector<uint32_t>> inbox_;     // record numbers, by recipient
  std::vector<std::pair<uint32_t, uint32_t>> senders_;  // (first record, sender), increasing
};

}  // namespace tacit::secagg
