#pragma once

// Collects the shares each surviving client was asked for (held sealed in a
// file, secure_agg/server/unmasking_shares.h) and, at Advance(),
// reconstructs every survivor's self-mask seed and every dropped client's
// masking key (checked against its advertised public key), removes all those
// masks from the sum in parallel (ServerConfig::unmask_threads) and returns
// the de-quantized result once the sum passed CheckDecodedSum. Next:
// ServerCompletedState.

#include <memory>
#include <set>
#include <vector>

#include "secure_agg/server/server_state.h"
#include "secure_agg/server/unmasking_shares.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {

class ServerUnmaskingState final : public ServerState {
 public:
  // `expected`: the clients asked to unmask (U4, those that signed the
  // survivor list); `survivors`: the clients whose masked input is in
  // `masked_sum` (U3); `shared`: those that shared keys (U2); `shares`:
  // where the returned shares are held. Client h was asked for the self-mask
  // shares of the survivors among h and its neighbours, and the masking-key
  // shares of its neighbours in `shared` but not in `survivors` (what
  // ServerConsistencyCheckState sent it, rederived from the graph here rather
  // than held: ~270 bytes a client at k = 40).
  ServerUnmaskingState(std::shared_ptr<const ServerRound> round, std::set<uint32_t> expected,
                       Bytes session_id, SharedKeys keys, std::set<uint32_t> shared,
                       std::vector<uint64_t> masked_sum, std::set<uint32_t> survivors,
                       std::unique_ptr<UnmaskingShares> shares)
      : ServerState(std::move(round), std::move(expected), std::move(session_id)),
        keys_(std::move(keys)),
        shared_(std::move(shared)),
        sum_(std::move(masked_sum)),
        survivors_(std::move(survivors)),
        shares_(std::move(shares)) {}
  ~ServerUnmaskingState() override;
  ServerPhase phase() const override { return ServerPhase::kUnmasking; }
  absl::StatusOr<Transition> Advance() override;

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kUnmasking; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  // DataLoss, naming the bound, when the decoded total weight lies outside
  // [survivors * min_weight, survivors * max_weight] or a coordinate beyond
  // survivors * max_weight * clip_bound (each widened by one rounding unit per
  // survivor).
  absl::Status CheckDecodedSum(absl::Span<const int64_t> quantized_sum, size_t survivors) const;
  // Whether `holder` was asked for its share of `owner`'s secret of `kind`.
  bool WasAsked(uint32_t holder, uint32_t owner, SharedSecret kind) const;
  // Every share in `list` is of a secret `id` was asked for, once, with
  // kShamirChunks field elements; their owners and values into the two.
  template <typename List>
  absl::Status CheckShares(uint32_t id, const List& list, SharedSecret kind,
                           std::vector<uint32_t>* owners, std::vector<uint64_t>* values) const;
  absl::StatusOr<SecretKey> Reconstruct(SharedSecret kind, uint32_t owner) const;

  SharedKeys keys_;
  std::set<uint32_t> shared_;
  std::vector<uint64_t> sum_;
  std::set<uint32_t> survivors_;  // U3
  // Shares received so far, by the client whose secret they share.
  std::unique_ptr<UnmaskingShares> shares_;
};

}  // namespace tacit::secagg
