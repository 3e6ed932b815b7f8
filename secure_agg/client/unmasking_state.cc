#include "secure_agg/client/unmasking_state.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/client/completed_state.h"
#include "secure_agg/identity.h"

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

bool ClientUnmaskingState::SignedAsSurvivor(uint32_t id) const {
  return std::binary_search(signed_survivors_.begin(), signed_survivors_.end(), id);
}

absl::Status ClientUnmaskingState::CheckSurvivorSignatures(
    const v1::SecAggUnmaskingRequest& request) const {
  const IdentityVerifier* verifier = env_->config.verifier.get();
  if (verifier == nullptr) return absl::OkStatus();  // an unsigned round (unit tests)
  const Bytes signed_input =
      SurvivorListSigningInput(ctx_.session_id, ctx_.params.round_id(), signed_survivors_);
  std::set<uint32_t> confirmed = {ctx_.id};
  for (const auto& entry : request.survivor_signatures()) {
    const uint32_t id = entry.client_id();
    auto peer = ctx_.peer_keys.find(id);
    if (peer == ctx_.peer_keys.end() || !held_.by_owner.count(id) || !SignedAsSurvivor(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the unmasking request forwards a survivor-list signature of client ", id,
                       ", which is not a neighbour that shared with this client and survived"));
    }
    if (!confirmed.insert(id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the unmasking request forwards two survivor-list signatures of client ", id));
    }
    absl::Status verified = verifier->Verify(AsBytes(peer->second.identity()), signed_input,
                                             AsBytes(entry.signature()));
    if (!verified.ok()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "refusing to unmask: neighbour ", id,
          "'s signature does not cover the survivor list this client signed (the server may have "
          "shown clients different lists): ",
          verified.message()));
    }
  }
  const uint32_t t = ctx_.params.threshold();
  if (confirmed.size() < t) {
    return absl::AbortedError(absl::StrCat(
        "refusing to unmask: only ", confirmed.size(),
        " of this client's share holders (itself included) signed the survivor list, fewer than "
        "the threshold ",
        t, "; nothing was revealed"));
  }
  return absl::OkStatus();
}

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
  // The consistency check: the server must ask according to the list this
  // client signed, and threshold of its share holders must have signed it.
  for (uint32_t id : survivors) {
    if (!SignedAsSurvivor(id)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "refusing to unmask: client ", id,
          " is asked for as a survivor but is not on the survivor list this client signed"));
    }
  }
  for (uint32_t id : dropped) {
    if (SignedAsSurvivor(id)) {
      return absl::PermissionDeniedError(
          absl::StrCat("refusing to unmask: client ", id,
                       " is asked for as dropped but is on the survivor list this client signed"));
    }
  }
  TACIT_RETURN_IF_ERROR(CheckSurvivorSignatures(request));
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
