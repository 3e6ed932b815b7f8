#pragma once

// Collects each client's signature over the survivor list (U3) the server
// showed every client alike (Bonawitz et al. 2017, Sec. 6). With
// ServerConfig::verifier set, a signature that does not verify against the
// client's advertised identity is rejected (Unauthenticated), so that client
// is not asked to unmask; its input stays in the sum. Advance() needs at least
// threshold signers (U4) and asks each of them for the self-mask shares of its
// surviving neighbours and the masking-key shares of those that shared keys
// but are not on the list, forwarding the signatures of its neighbours in U4.
// Next: ServerUnmaskingState.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

class ServerConsistencyCheckState final : public ServerState {
 public:
  // `survivors`: the clients whose masked input is in `masked_sum` (U3), who
  // are also the clients expected to answer; `shared`: those that shared keys
  // (U2).
  ServerConsistencyCheckState(std::shared_ptr<const ServerRound> round,
                              std::set<uint32_t> survivors, Bytes session_id, SharedKeys keys,
                              std::set<uint32_t> shared, std::vector<uint64_t> masked_sum);
  ServerPhase phase() const override { return ServerPhase::kConsistencyCheck; }
  absl::StatusOr<Transition> Advance() override;

  // The list every client is shown, strictly increasing.
  const std::vector<uint32_t>& survivor_list() const { return survivor_list_; }

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kConsistencyCheck; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  SharedKeys keys_;
  std::set<uint32_t> shared_;
  std::vector<uint64_t> sum_;
  std::vector<uint32_t> survivor_list_;
  Bytes signing_input_;
  std::map<uint32_t, std::string> signatures_;
};

}  // namespace tacit::secagg
