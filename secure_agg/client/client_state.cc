#include "secure_agg/client/client_state.h"

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"

namespace tacit::secagg {

void WipeShare(ShamirShare& share) {
  Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(share.values.data()),
                         share.values.size() * sizeof(uint64_t)));
}

void WipeShares(DecodedShares& shares) {
  WipeShare(shares.self_mask);
  WipeShare(shares.masking_key);
}

HeldShares::~HeldShares() {
  for (auto& [owner, shares] : by_owner) WipeShares(shares);
}

absl::Status OutOfPhase(ClientPhase phase, const v1::SecAggServerToClient& message) {
  return absl::FailedPreconditionError(absl::StrCat("out of phase: got ", DescribeStep(message),
                                                    " while the client is in ",
                                                    ClientPhaseName(phase)));
}

absl::Status CheckEnvelope(const RoundContext& ctx, const v1::SecAggServerToClient& message,
                           bool check_session) {
  if (message.round_id() != ctx.params.round_id()) {
    return absl::UnauthenticatedError(absl::StrCat("message is for round ", message.round_id(),
                                                   ", this client is in round ",
                                                   ctx.params.round_id()));
  }
  if (check_session && !ConstantTimeEquals(AsBytes(message.session_id()), ctx.session_id)) {
    return absl::UnauthenticatedError("message carries another session id than this round's");
  }
  return absl::OkStatus();
}

v1::SecAggClientToServer ClientEnvelope(const RoundContext& ctx) {
  v1::SecAggClientToServer out;
  out.set_round_id(ctx.params.round_id());
  out.set_session_id(ToString(ctx.session_id));
  return out;
}

}  // namespace tacit::secagg
