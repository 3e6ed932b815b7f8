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
  // Each request is built when fetched from the graph, the two sets and
  // each signature held once (ServerMessages::UnmaskingRequests);
  // ServerUnmaskingState::WasAsked rederives the same asks.
  std::map<uint32_t, std::string> signatures;
  for (uint32_t id : responded_) signatures[id] = std::move(signatures_[id]);
  signatures_.clear();
  out.outcome.messages = ServerMessages::UnmaskingRequests(
      Envelope(), std::shared_ptr<const NeighborGraph>(round_, &round_->graph),
      std::vector<uint32_t>(responded_.begin(), responded_.end()),
      std::vector<uint32_t>(shared_.begin(), shared_.end()),
      std::vector<uint32_t>(survivors.begin(), survivors.end()), std::move(signatures));
  out.next = std::make_unique<ServerUnmaskingState>(
      round_, std::move(responded_), std::move(session_id_), std::move(keys_), std::move(shared_),
      std::move(sum_), survivors, std::move(shares));
  return out;
}

}  // namespace tacit::secagg
