#pragma once

// Collects each client's encrypted Shamir shares, exactly one for every
// advertised neighbour, as fixed 128-byte records (HeldShare) in the round's
// ShareSpool. The spool is a grid with one row per client of the round and
// one slot per possible sender (its neighbours), filled in arrival order, so
// a recipient's shares are one run of records and the heap holds a count per
// client (4 bytes) instead of a record number per share (4 x k bytes: 1.2
// KiB a client at k = 312). Advance() needs at least threshold senders and
// hands each client's run to the outbox (ServerMessages::ShareDeliveries,
// read back and built into a message only when fetched, with the shares of
// senders that did not complete this phase left out). Next:
// ServerMaskedInputState.

#include <set>
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
                       Bytes session_id, SharedKeys keys, std::shared_ptr<ShareSpool> spool);
  ServerPhase phase() const override { return ServerPhase::kShareKeys; }
  absl::StatusOr<Transition> Advance() override;

  // Shares held for `recipient` (for tests and memory accounting).
  size_t HeldSharesFor(uint32_t recipient) const;

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kShareKeys; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  // `recipient`'s row of the grid (its index among the round's ids), or -1.
  int64_t RowOf(uint32_t recipient) const;

  SharedKeys keys_;
  std::shared_ptr<ShareSpool> spool_;
  uint64_t slots_;                  // per row: the most shares one client can receive
  std::vector<uint32_t> received_;  // shares held, by row
};

}  // namespace tacit::secagg
