#include "secure_agg/server/not_started_state.h"

#include "secure_agg/server/advertise_keys_state.h"

namespace tacit::secagg {

absl::StatusOr<ServerState::Transition> ServerNotStartedState::Advance() {
  Transition out;
  const v1::SecAggRoundParameters common = round_->CommonParameters();
  for (uint32_t id : round_->cohort) {
    v1::SecAggServerToClient msg = Envelope();
    auto* params = msg.mutable_round_start()->mutable_parameters();
    *params = common;
    for (uint32_t n : round_->graph.NeighborsOf(id)) params->add_neighbor_ids(n);
    out.outcome.messages.Add(id, msg);  // held serialized
  }
  out.next = std::make_unique<ServerAdvertiseKeysState>(round_);
  return out;
}

}  // namespace tacit::secagg
