#include "secure_agg/server/masked_input_state.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/bit_packing.h"
#include "secure_agg/server/consistency_check_state.h"

namespace tacit::secagg {

ServerMaskedInputState::ServerMaskedInputState(std::shared_ptr<const ServerRound> round,
                                               std::set<uint32_t> expected, Bytes session_id,
                                               SharedKeys keys, std::set<uint32_t> shared)
    : ServerState(std::move(round), std::move(expected), std::move(session_id)),
      keys_(std::move(keys)),
      shared_(std::move(shared)),
      sum_(config().vector_length + 1, 0) {}

absl::Status ServerMaskedInputState::HandlePhaseMessage(uint32_t id,
                                                        const v1::SecAggClientToServer& message) {
  const v1::SecAggMaskedInput& m = message.masked_input();
  if (m.length() != sum_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("client ", id, "'s masked input has ",
                                                   m.length(), " elements, expected ", sum_.size(),
                                                   " (vector length + weight)"));
  }
  // AddPackedResidues checks the exact packed size and the padding bits before
  // adding anything, so a rejected input leaves the sum untouched.
  return AddPackedResidues(AsBytes(m.packed()), config().bits, absl::MakeSpan(sum_));
}

absl::StatusOr<ServerState::Transition> ServerMaskedInputState::Advance() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors());
  Transition out;
  // Every survivor is shown the same list: the outbox holds it once.
  out.outcome.messages = ServerMessages::ConsistencyCheck(
      Envelope(), std::vector<uint32_t>(responded_.begin(), responded_.end()));
  out.next = std::make_unique<ServerConsistencyCheckState>(round_, std::move(responded_),
                                                           std::move(session_id_), std::move(keys_),
                                                           std::move(shared_), std::move(sum_));
  return out;
}

}  // namespace tacit::secagg
