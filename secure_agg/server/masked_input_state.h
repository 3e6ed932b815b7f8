#pragma once

// Collects the masked inputs and adds each to one running sum as it arrives
// (the server keeps one vector, not one per client). Advance() needs at least
// threshold inputs and shows every client that sent one the same survivor
// list (U3) to sign. Next: ServerConsistencyCheckState.

#include <set>
#include <vector>

#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

class ServerMaskedInputState final : public ServerState {
 public:
  // `expected` and `shared`: the clients that shared keys (U2); the sum starts
  // at zero, vector_length + 1 elements (the weight last).
  ServerMaskedInputState(std::shared_ptr<const ServerRound> round, std::set<uint32_t> expected,
                         Bytes session_id, SharedKeys keys, std::set<uint32_t> shared);
  ServerPhase phase() const override { return ServerPhase::kMaskedInput; }
  absl::StatusOr<Transition> Advance() override;

  // The running masked sum (mod 2^64, residues below 2^bits added).
  const std::vector<uint64_t>& masked_sum() const { return sum_; }

 protected:
  std::optional<Phase> protocol_phase() const override { return Phase::kMaskedInput; }
  absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message) override;

 private:
  SharedKeys keys_;
  std::set<uint32_t> shared_;
  std::vector<uint64_t> sum_;
};

}  // namespace tacit::secagg
