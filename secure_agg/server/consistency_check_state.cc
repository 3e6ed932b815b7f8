#include "secure_agg/server/consistency_check_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/identity.h"
#include "secure_agg/server/unmasking_state.h"

namespace tacit::secagg {

ServerConsistencyCheckState::ServerConsistencyCheckState(std::shared_ptr<const ServerRound> round,
                                                         std::set<uint32_t> survivors,
                                                         Bytes session_id, SharedKeys keys,
                                                         std::set<uint32_t> shared,
                                                         std::vector<uint64_t> masked_sum)
    : ServerState(std::move(round), std::move(survivors), std::move(session_id)),
      keys_(std::move(keys)),
      shared_(std::move(shared)),
      sum_(std::move(masked_sum)),
      survivor_list_(expected_.begin(), expected_.end()),
      signing_input_(SurvivorListSigningInput(session_id_, config().round_id, survivor_list_)) {}

absl::Status ServerConsistencyCheckState::HandlePhaseMessage(
    uint32_t id, const v1::SecAggClientToServer& message) {
  const std::string& signature = message.consistency_response().signature();
  if (config().verifier) {
    absl::Status verified = config().verifier->Verify(AsBytes(keys_->at(id).identity()),
                                                      signing_input_, AsBytes(signature));
    if (!verified.ok()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "client ", id,
          "'s signature over the survivor list does not verify: ", verified.message()));
    }
  }
  signatures_[id] = signature;
  return absl::OkStatus();
}

absl::StatusOr<ServerState::Transition> ServerConsistencyCheckState::Advance() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors());
  const std::set<uint32_t>& survivors = expected_;  // U3
  // The replies' shares are held sealed in a file (unmasking_shares.h).
  const size_t holders =
      round_->graph.complete() ? round_->cohort.size() : round_->config.neighbors + 1;
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<UnmaskingShares> shares,
                         UnmaskingShares::Create(round_->graph.ids(), holders));
  Transition out;
  for (uint32_t id : responded_) {
    // What id is asked to reveal; ServerUnmaskingState::WasAsked rederives it.
    struct {
      std::vector<uint32_t> survivors;  // self-mask shares of these
      std::vector<uint32_t> dropped;    // masking-key shares of these
    } ask;
    ask.survivors.push_back(id);
    v1::SecAggServerToClient msg = Envelope();
    auto* request = msg.mutable_unmasking_request();
    for (uint32_t n : round_->graph.NeighborsOf(id)) {
      if (!shared_.count(n)) continue;  // no shares of n held by id
      (survivors.count(n) ? ask.survivors : ask.dropped).push_back(n);
      // An unsigned round (no identities) has nothing to forward.
      if (auto signed_by = signatures_.find(n);
          signed_by != signatures_.end() && !signed_by->second.empty()) {
        auto* forwarded = request->add_survivor_signatures();
        forwarded->set_client_id(n);
        forwarded->set_signature(signed_by->second);
      }
    }
    // Neighbours are distinct and never the client itself: sorting gives
    // strictly increasing lists, in the order the request carries them.
    std::sort(ask.survivors.begin(), ask.survivors.end());
    std::sort(ask.dropped.begin(), ask.dropped.end());
    for (uint32_t s : ask.survivors) request->add_survivor_ids(s);
    for (uint32_t d : ask.dropped) request->add_dropped_ids(d);
    out.outcome.messages.Add(id, msg);  // held serialized
  }
  out.next = std::make_unique<ServerUnmaskingState>(
      round_, std::move(responded_), std::move(session_id_), std::move(keys_), std::move(shared_),
      std::move(sum_), survivors, std::move(shares));
  return out;
}

}  // namespace tacit::secagg
