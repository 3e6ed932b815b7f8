#include "secure_agg/client/consistency_check_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/client/unmasking_state.h"
#include "secure_agg/identity.h"

namespace tacit::secagg {

absl::StatusOr<ClientState::Transition> ClientConsistencyCheckState::Handle(
    const v1::SecAggServerToClient& message) {
  if (!message.has_consistency_check()) return OutOfPhase(phase(), message);
  TACIT_RETURN_IF_ERROR(CheckEnvelope(ctx_, message, true));
  const auto& ids = message.consistency_check().survivor_ids();
  std::vector<uint32_t> survivors(ids.begin(), ids.end());
  for (size_t i = 1; i < survivors.size(); ++i) {
    if (survivors[i] <= survivors[i - 1]) {
      return absl::InvalidArgumentError(
          "the survivor list of the consistency check is not strictly increasing");
    }
  }
  if (!std::binary_search(survivors.begin(), survivors.end(), ctx_.id)) {
    return absl::InvalidArgumentError(
        "the survivor list of the consistency check leaves out this client, which sent its "
        "masked input");
  }
  const uint32_t t = ctx_.params.threshold();
  if (survivors.size() < t) {
    return absl::AbortedError(absl::StrCat("refusing to go on: the survivor list names ",
                                           survivors.size(), " clients, fewer than the threshold ",
                                           t, "; the round cannot complete"));
  }
  // The holders of this client's shares are itself and the neighbours that
  // shared with it (held_ has exactly those owners).
  size_t holders_alive = 0;
  for (const auto& [owner, unused] : held_.by_owner) {
    holders_alive += std::binary_search(survivors.begin(), survivors.end(), owner) ? 1 : 0;
  }
  if (holders_alive < t) {
    return absl::AbortedError(absl::StrCat("refusing to go on: only ", holders_alive,
                                           " of this client's share holders are on the survivor "
                                           "list, fewer than the threshold ",
                                           t, "; the round cannot complete"));
  }
  Transition out;
  out.reply = ClientEnvelope(ctx_);
  auto* response = out.reply.mutable_consistency_response();
  if (env_->config.signer) {
    TACIT_ASSIGN_OR_RETURN(Bytes signature,
                           env_->config.signer->Sign(SurvivorListSigningInput(
                               ctx_.session_id, ctx_.params.round_id(), survivors)));
    response->set_signature(ToString(signature));
  }
  out.next = std::make_unique<ClientUnmaskingState>(env_, std::move(ctx_), std::move(held_),
                                                    std::move(survivors));
  return out;
}

}  // namespace tacit::secagg
