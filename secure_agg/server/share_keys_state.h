#pragma once

// Collects each client's encrypted Shamir shares, exactly one for every
// advertised neighbour, and holds them by recipient in fixed 128-byte records
// (HeldShare). Advance() needs at least threshold senders and builds each
// client's delivery from the senders that completed this phase, freeing a
// recipient's records as soon as its delivery is built. Next:
// ServerMaskedInputState.

#include <array>
#include <map>
#include <set>
#include <vector>

#include "secure_agg/server/server_state.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {

// Bytes of one share ciphertext: sender, recipient, two shares, GCM tag.
inline constexpr size_t kShareCiphertextBytes = 16 + 2 * kShamirChunks * 8 + kGcmTagBytes;

// One encrypted share held for its recipient between the share-keys phase
// and its delivery. Fixed-size fields, no allocation per share: a degree-312
// round of 1,000 clients holds ~312,000 of them, which as protobuf messages
// cost ~4x the 128 bytes here (measured in the coordinator's peak memory).
struct HeldShare {
  uint32_t sender = 0;
  std::array<char, kGcmNonceBytes> nonce{};
  std::array<char, kShareCiphertextBytes> ciphertext{};
};
static_assert(sizeof(HeldShare) == 128, "a held share is one 128-byte record");

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
