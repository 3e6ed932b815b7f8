#include "secure_agg/client/advertise_keys_state.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/client/share_keys_state.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/identity.h"

namespace tacit::secagg {

absl::StatusOr<ClientState::Transition> ClientAdvertiseKeysState::Handle(
    const v1::SecAggServerToClient& message) {
  if (!message.has_round_start()) return OutOfPhase(phase(), message);
  const ClientConfig& config = env_->config;
  const auto& p = message.round_start().parameters();
  if (p.round_id() != message.round_id()) {
    return absl::UnauthenticatedError(absl::StrCat("round start names two different round ids (",
                                                   message.round_id(), " and ", p.round_id(), ")"));
  }
  FixedPointParams fp{p.bits(), p.clip_bound(), p.scale(), p.max_weight()};
  TACIT_RETURN_IF_ERROR(ValidateFixedPointParams(fp));
  if (p.vector_length() == 0 || p.vector_length() > config.max_vector_length) {
    return absl::InvalidArgumentError(absl::StrCat("vector length ", p.vector_length(),
                                                   " is outside 1..", config.max_vector_length,
                                                   " (ClientConfig::max_vector_length)"));
  }
  if (p.threshold() < 2 || p.cohort_size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat("round needs a threshold >= 2 and a cohort >= 3",
                                                   ", got threshold ", p.threshold(),
                                                   " and cohort ", p.cohort_size()));
  }
  RoundContext ctx;
  ctx.id = config.client_id;
  ctx.params = p;
  for (uint32_t n : p.neighbor_ids()) {
    if (n == ctx.id || !ctx.graph_neighbors.insert(n).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("neighbour list repeats client ", n, " or names this client"));
    }
  }
  if (ctx.graph_neighbors.size() + 1 > p.cohort_size()) {
    return absl::InvalidArgumentError(absl::StrCat("more neighbours (", ctx.graph_neighbors.size(),
                                                   ") than the cohort of ", p.cohort_size(),
                                                   " holds"));
  }
  // Every secret of the round is drawn here, in this order, from one source.
  RandomSource& random = *env_->random;
  TACIT_ASSIGN_OR_RETURN(ctx.encryption_keys, GenerateX25519KeyPair(random));
  TACIT_ASSIGN_OR_RETURN(ctx.masking_keys, GenerateX25519KeyPair(random));
  TACIT_ASSIGN_OR_RETURN(ctx.self_mask_seed, DrawSecretKey(random));

  Transition out;
  out.reply = ClientEnvelope(ctx);
  auto* advertise = out.reply.mutable_advertise_keys();
  advertise->set_encryption_public_key(ToString(ctx.encryption_keys.public_key));
  advertise->set_masking_public_key(ToString(ctx.masking_keys.public_key));
  if (config.signer) {
    const Bytes signed_input = AdvertisementSigningInput(
        p, ctx.id, advertise->encryption_public_key(), advertise->masking_public_key());
    TACIT_ASSIGN_OR_RETURN(Bytes signature, config.signer->Sign(signed_input));
    advertise->set_identity(ToString(config.signer->identity()));
    advertise->set_signature(ToString(signature));
  }
  out.next = std::make_unique<ClientShareKeysState>(env_, std::move(ctx));
  return out;
}

}  // namespace tacit::secagg
