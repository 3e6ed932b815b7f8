#pragma once

// Collects the shares each surviving client was asked for and, at Advance(),
// reconstructs every survivor's self-mask seed and every dropped client's
// masking key (checked against its advertised public key), removes all those
// masks from the sum in parallel (ServerConfig::unmask_threads) and returns
// the de-quantized result once the sum passed CheckDecodedSum. Next:
// ServerCompletedState.

#include <array>
#include <map>
#include <set>
#include <vector>

#include "secure_agg/server/server_state.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {

// What one client was asked to reveal, each list strictly increasing
// (4 bytes an id: the server holds one per survivor through the phase).
struct UnmaskingAsk {
  std::vector<uint32_t> survivors;  // self-mask shares of these
  std::vector<uint32_t> dropped;    // masking-key shares of these
};

// One Shamir share a holder returned, held until its secret is rebuilt:
// fixed size, no allocation of its own (a ShamirShare's vector costs ~88
// bytes a share; k + 1 of them are held per survivor).
struct ReceivedShare {
  uint32_t holder_id = 0;
  std::array<uint64_t, kShamirChunks> values{};
};
using ReceivedShares = std::map<uint32_t, std::vector<ReceivedShare>>;  // by owner

class ServerUnmaskingState final : public ServerState {
 public:
  // `expected`: the clients asked to unmask (U4, those that signed the
  // survivor list); `survivors`: the clients whose masked input is in
  // `masked_sum` (U3); `shared`: those that shared keys (U2); `asked`: each
  // client's request.
  ServerUnmaskingState(std::shared_ptr<const ServerRound> round, std::set<uint32_t> expected,
                       Bytes session_id, SharedKeys keys, std::set<uint32_t> shared,
                       std::vector<uint64_t> masked_sum, std::map<uint32_t, UnmaskingAsk> asked,
                       std::set<uint32_t> survivors)
      : ServerState(std::move(round), std::move(expected), std::move(session_id)),
        keys_(std::move(keys)),
        shared_(std::move(shared)),
        sum_(std::move(masked_sum)),
        asked_(std::move(asked)),
        survivors_(std::move(survivors)) {}
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
  absl::StatusOr<SecretKey> Reconstruct(ReceivedShares& sets, uint32_t owner,
                                        const char* what) const;

  SharedKeys keys_;
  std::set<uint32_t> shared_;
  std::vector<uint64_t> sum_;
  std::map<uint32_t, UnmaskingAsk> asked_;
  std::set<uint32_t> survivors_;  // U3
  // Shares received so far, by the client whose secret they share.
  ReceivedShares self_mask_shares_, masking_key_shares_;
};

}  // namespace tacit::secagg
