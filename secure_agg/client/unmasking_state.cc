#include "secure_agg/client/unmasking_state.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/client/completed_state.h"

namespace tacit::secagg {
namespace {

// Appends the held share `which` of client `owner` to `out`.
absl::Status AddShare(const HeldShares& held, uint32_t owner, ShamirShare DecodedShares::*which,
                      google::protobuf::RepeatedPtrField<v1::SecAggKeyShare>* out) {
  auto it = held.by_owner.find(owner);
  if (it == held.by_owner.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unmasking request names client ", owner,
                                                   ", whose shares this client does not hold"));
  }
  v1::SecAggKeyShare* share = out->Add();
  share->set_owner_id(owner);
  for (uint64_t v : (it->second.*which).values) share->add_values(v);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClientState::Transition> ClientUnmaskingState::Handle(
    const v1::SecAggServerToClient& message) {
  if (!message.has_unmasking_request()) return OutOfPhase(phase(), message);
  TACIT_RETURN_IF_ERROR(CheckEnvelope(ctx_, message, true));
  const auto& request = message.unmasking_request();
  const std::set<uint32_t> survivors(request.survivor_ids().begin(), request.survivor_ids().end());
  const std::set<uint32_t> dropped(request.dropped_ids().begin(), request.dropped_ids().end());
  // The server may learn each client's self mask or its masking key, never both:
  // with both it could strip every mask from that client's input.
  for (uint32_t id : dropped) {
    if (survivors.count(id)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "refusing to unmask: client ", id,
          " is listed both as survivor and as dropped, which would reveal both its secrets"));
    }
  }
  if (dropped.count(ctx_.id)) {
    return absl::PermissionDeniedError(
        "refusing to unmask: this client sent its masked input but is listed as dropped, "
        "which would reveal its masking key");
  }
  // The server can recover this client's self mask only from the shares held
  // by the survivors it lists (itself and its neighbours that sent input): with
  // fewer than threshold of them the round cannot complete, so say so loudly
  // instead of revealing anything for a round that will fail.
  if (survivors.size() < ctx_.params.threshold()) {
    return absl::AbortedError(absl::StrCat("refusing to unmask: only ", survivors.size(),
                                           " of this client's share holders ",
                                           "survived, fewer than the threshold ",
                                           ctx_.params.threshold(), "; the round cannot complete"));
  }
  Transition out;
  out.reply = ClientEnvelope(ctx_);
  auto* response = out.reply.mutable_unmasking_response();
  for (uint32_t id : survivors) {
    TACIT_RETURN_IF_ERROR(
        AddShare(held_, id, &DecodedShares::self_mask, response->mutable_self_mask_shares()));
  }
  for (uint32_t id : dropped) {
    TACIT_RETURN_IF_ERROR(
        AddShare(held_, id, &DecodedShares::masking_key, response->mutable_masking_key_shares()));
  }
  out.next = std::make_unique<ClientCompletedState>();
  return out;
}

}  // namespace tacit::secagg
