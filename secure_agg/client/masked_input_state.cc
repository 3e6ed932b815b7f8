#include "secure_agg/client/masked_input_state.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"
#include "common/status_macros.h"
#include "secure_agg/bit_packing.h"
#include "secure_agg/client/consistency_check_state.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/masking.h"

namespace tacit::secagg {
namespace {

// Masks the quantized vector in words of the mask generator's width (4 bytes
// when bits <= 32, else 8) and writes it into `packed` at exactly `bits` bits
// per element (bit_packing.h).
template <typename Value>
absl::Status MaskAndPack(std::vector<int64_t> quantized, absl::Span<const MaskTerm> terms,
                         uint32_t bits, std::string* packed) {
  std::vector<Value> masked(quantized.size());
  for (size_t i = 0; i < quantized.size(); ++i) masked[i] = static_cast<Value>(quantized[i]);
  Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(quantized.data()),
                         quantized.size() * sizeof(int64_t)));
  std::vector<int64_t>().swap(quantized);
  TACIT_RETURN_IF_ERROR(ApplyMasks(terms, bits, 0, absl::MakeSpan(masked)));
  ReduceModulo(absl::MakeSpan(masked), bits);
  packed->resize(PackedBytes(masked.size(), bits));
  return PackResiduesInto(absl::MakeConstSpan(masked), bits,
                          reinterpret_cast<uint8_t*>(packed->data()));
}

}  // namespace

absl::StatusOr<ClientState::Transition> ClientMaskedInputState::Handle(
    const v1::SecAggServerToClient& message) {
  if (!message.has_shares_delivery()) return OutOfPhase(phase(), message);
  TACIT_RETURN_IF_ERROR(CheckEnvelope(ctx_, message, true));
  const uint64_t round = ctx_.params.round_id();
  HeldShares held;
  for (const auto& share : message.shares_delivery().shares()) {
    const uint32_t sender = share.sender_id();
    auto peer = ctx_.peer_keys.find(sender);
    if (share.recipient_id() != ctx_.id || peer == ctx_.peer_keys.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("delivered share from ", sender, " to ", share.recipient_id(),
                       " is not from an advertised neighbour to this client"));
    }
    if (held.by_owner.count(sender)) {
      return absl::InvalidArgumentError(absl::StrCat("two shares delivered from ", sender));
    }
    TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                           X25519Agree(ctx_.encryption_keys.private_key,
                                       AsBytes(peer->second.encryption_public_key())));
    TACIT_ASSIGN_OR_RETURN(SecretKey key,
                           ShareEncryptionKey(agreed, ctx_.session_id, round, sender, ctx_.id));
    TACIT_ASSIGN_OR_RETURN(
        Bytes plaintext, AesGcmOpen(key, AsBytes(share.nonce()), AsBytes(share.ciphertext()),
                                    ShareAssociatedData(ctx_.session_id, round, sender, ctx_.id)));
    auto decoded = DecodeSharePlaintext(plaintext, sender, ctx_.id);
    Zeroize(absl::MakeSpan(plaintext));
    if (!decoded.ok()) return decoded.status();
    held.by_owner.emplace(sender, std::move(*decoded));
  }
  if (held.by_owner.size() + 1 < ctx_.params.threshold()) {
    return absl::AbortedError(absl::StrCat(
        "only ", held.by_owner.size(), " neighbours shared keys, fewer than threshold - 1 = ",
        ctx_.params.threshold() - 1, "; the round cannot complete"));
  }

  // Quantize the input, then add the self mask and one pairwise mask per
  // neighbour that shared keys (they will mask with this client in turn).
  TACIT_ASSIGN_OR_RETURN(std::vector<float> input, env_->input());
  const FixedPointParams fp{ctx_.params.bits(), ctx_.params.clip_bound(), ctx_.params.scale(),
                            ctx_.params.max_weight()};
  std::vector<int64_t> quantized;
  if (env_->config.input_encoder) {
    absl::StatusOr<std::vector<int64_t>> encoded =
        env_->config.input_encoder(input, env_->weight, fp);
    if (!encoded.ok()) {
      Zeroize(
          absl::MakeSpan(reinterpret_cast<uint8_t*>(input.data()), input.size() * sizeof(float)));
      return encoded.status();
    }
    quantized = *std::move(encoded);
    if (quantized.size() != ctx_.params.vector_length() + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the input encoder gave ", quantized.size(), " values, the round expects ",
                       ctx_.params.vector_length(), " plus the weight"));
    }
  } else {
    if (input.size() != ctx_.params.vector_length()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input has ", input.size(), " values, the round expects ", ctx_.params.vector_length()));
    }
    SecretKey rounding_key;
    if (env_->config.rounding_key) {
      rounding_key = SecretKey(*env_->config.rounding_key);
    } else {
      TACIT_ASSIGN_OR_RETURN(rounding_key, DrawSecretKey(*env_->random));
    }
    TACIT_ASSIGN_OR_RETURN(quantized, QuantizeWeighted(fp, input, env_->weight, rounding_key));
  }
  // The raw update is wiped before it is freed: only its masked form leaves.
  Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(input.data()), input.size() * sizeof(float)));
  std::vector<float>().swap(input);
  if (env_->config.on_quantized_input) env_->config.on_quantized_input(quantized);
  std::vector<MaskTerm> terms;
  terms.push_back({ctx_.self_mask_seed, 1});
  for (const auto& [peer_id, unused] : held.by_owner) {
    TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                           X25519Agree(ctx_.masking_keys.private_key,
                                       AsBytes(ctx_.peer_keys.at(peer_id).masking_public_key())));
    TACIT_ASSIGN_OR_RETURN(SecretKey seed, PairwiseMaskSeed(agreed, ctx_.session_id, round));
    terms.push_back({seed, PairSign(ctx_.id, peer_id)});
  }
  Transition out;
  out.reply = ClientEnvelope(ctx_);
  auto* masked_input = out.reply.mutable_masked_input();
  masked_input->set_length(quantized.size());
  if (ElementWidth(fp.bits) == 4) {
    TACIT_RETURN_IF_ERROR(MaskAndPack<uint32_t>(std::move(quantized), terms, fp.bits,
                                                masked_input->mutable_packed()));
  } else {
    TACIT_RETURN_IF_ERROR(MaskAndPack<uint64_t>(std::move(quantized), terms, fp.bits,
                                                masked_input->mutable_packed()));
  }

  held.by_owner.emplace(ctx_.id, own_);
  // The masking key, self-mask seed and encryption key are no longer needed:
  // only shares remain (SecretKey wipes what it replaces and holds).
  ctx_.masking_keys.private_key = SecretKey();
  ctx_.self_mask_seed = SecretKey();
  ctx_.encryption_keys.private_key = SecretKey();
  out.next = std::make_unique<ClientConsistencyCheckState>(env_, std::move(ctx_), std::move(held));
  return out;
}

}  // namespace tacit::secagg
