#include "secure_agg/client/share_keys_state.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"
#include "common/status_macros.h"
#include "secure_agg/advertised_keys.h"
#include "secure_agg/client/masked_input_state.h"
#include "secure_agg/identity.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {
namespace {

// Wipes both share lists when the handler returns, on every path.
struct ShareListsWiper {
  std::vector<ShamirShare>* lists[2];
  ~ShareListsWiper() {
    for (auto* list : lists) {
      for (auto& s : *list) WipeShare(s);
    }
  }
};

}  // namespace

absl::StatusOr<ClientState::Transition> ClientShareKeysState::Handle(
    const v1::SecAggServerToClient& message) {
  if (!message.has_keys_broadcast()) return OutOfPhase(phase(), message);
  TACIT_RETURN_IF_ERROR(CheckEnvelope(ctx_, message, false));
  const auto& params = ctx_.params;
  if (message.session_id().size() != 32) {
    return absl::UnauthenticatedError(absl::StrCat(
        "key broadcast must carry a 32-byte session id, got ", message.session_id().size()));
  }
  std::vector<v1::SecAggPublicKeys> keys(message.keys_broadcast().keys().begin(),
                                         message.keys_broadcast().keys().end());
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.client_id() < b.client_id(); });
  // How often each key appears: a key listed twice was copied, and the
  // neighbours listing it are dropped (this client's own keys stay).
  std::map<std::string, int> key_count;
  for (const auto& k : keys) {
    ++key_count[k.encryption_public_key()];
    ++key_count[k.masking_public_key()];
  }
  const IdentityVerifier* verifier = env_->config.verifier.get();
  if (verifier != nullptr) {
    // One device holds one seat: a server that lists one identity under two
    // ids is inventing clients, and this client refuses the whole broadcast.
    std::map<std::string, uint32_t> seat_of_identity;
    for (const auto& k : keys) {
      if (k.identity().empty()) continue;
      auto [seat, inserted] = seat_of_identity.emplace(k.identity(), k.client_id());
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat("clients ", seat->second, " and ", k.client_id(),
                         " share one identity in the key broadcast; one device cannot hold two "
                         "seats, the round is refused"));
      }
    }
  }
  // Collected here and committed to ctx_ only when the whole message is good,
  // so a rejected broadcast leaves this state as it was.
  std::map<uint32_t, v1::SecAggPublicKeys> peer_keys;
  std::vector<uint32_t> holder_ids;  // this client and the neighbours it keeps, increasing
  bool saw_self = false;
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    if (i > 0 && keys[i - 1].client_id() == k.client_id()) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", k.client_id(), " appears twice in the key broadcast"));
    }
    if (k.client_id() == ctx_.id) {
      saw_self =
          ConstantTimeEquals(AsBytes(k.encryption_public_key()), ctx_.encryption_keys.public_key) &&
          ConstantTimeEquals(AsBytes(k.masking_public_key()), ctx_.masking_keys.public_key);
      if (!saw_self) {
        return absl::InvalidArgumentError("the key broadcast has other keys for this client");
      }
      holder_ids.push_back(k.client_id());
      continue;
    }
    if (!ctx_.graph_neighbors.count(k.client_id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("the key broadcast includes client ", k.client_id(), ", not a neighbour"));
    }
    // A neighbour with unusable keys is dropped, not the round: one client
    // must not be able to abort every round it joins.
    const bool repeated =
        key_count[k.encryption_public_key()] > 1 || key_count[k.masking_public_key()] > 1;
    if (repeated ||
        !CheckAdvertisedKeyPair(k.client_id(), k.encryption_public_key(), k.masking_public_key())
             .ok()) {
      continue;
    }
    // Keys the neighbour did not sign may be the server's own: dropped, so
    // no share of this client's secrets is encrypted to them.
    if (verifier != nullptr && !CheckAdvertisementSignature(*verifier, params, k).ok()) continue;
    peer_keys.emplace(k.client_id(), k);
    holder_ids.push_back(k.client_id());
  }
  if (!saw_self) return absl::InvalidArgumentError("the key broadcast omits this client");
  const uint32_t holders = static_cast<uint32_t>(holder_ids.size());
  if (params.threshold() > holders) {
    return absl::AbortedError(absl::StrCat("only ", holders,
                                           " share holders advertised usable keys, fewer than the "
                                           "threshold ",
                                           params.threshold(), "; the round cannot complete"));
  }
  if (params.threshold() <= env_->config.min_threshold_fraction * holders) {
    return absl::InvalidArgumentError(
        absl::StrCat("threshold ", params.threshold(), " is too low for ", holders,
                     " share holders: the server with colluders or devices of its own could "
                     "reconstruct this client's secrets (ClientConfig::min_threshold_fraction is ",
                     env_->config.min_threshold_fraction, ")"));
  }
  // With the complete graph the client sees every advertised key and checks
  // the session id itself; with SecAgg+ it binds to the server's value.
  if (ctx_.graph_neighbors.size() + 1 == params.cohort_size()) {
    TACIT_ASSIGN_OR_RETURN(Bytes expected, ComputeSessionId(params, keys));
    if (!ConstantTimeEquals(expected, AsBytes(message.session_id()))) {
      return absl::UnauthenticatedError(
          "the session id does not hash the advertised keys and round parameters");
    }
  }
  const Bytes session_id(message.session_id().begin(), message.session_id().end());

  RandomSource& random = *env_->random;
  TACIT_ASSIGN_OR_RETURN(auto self_mask_shares,
                         ShamirSplit(ctx_.self_mask_seed, params.threshold(), holder_ids, random));
  std::vector<ShamirShare> masking_key_shares;
  ShareListsWiper wiper{{&self_mask_shares, &masking_key_shares}};
  TACIT_ASSIGN_OR_RETURN(masking_key_shares, ShamirSplit(ctx_.masking_keys.private_key,
                                                         params.threshold(), holder_ids, random));
  Transition out;
  out.reply = ClientEnvelope(ctx_);
  out.reply.set_session_id(message.session_id());
  auto* share_keys = out.reply.mutable_share_keys();
  size_t own_index = 0;
  for (size_t i = 0; i < holder_ids.size(); ++i) {
    const uint32_t to = holder_ids[i];
    if (to == ctx_.id) {
      own_index = i;
      continue;
    }
    TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                           X25519Agree(ctx_.encryption_keys.private_key,
                                       AsBytes(peer_keys.at(to).encryption_public_key())));
    TACIT_ASSIGN_OR_RETURN(SecretKey key,
                           ShareEncryptionKey(agreed, session_id, params.round_id(), ctx_.id, to));
    Bytes nonce(kGcmNonceBytes);
    TACIT_RETURN_IF_ERROR(random.Fill(absl::MakeSpan(nonce)));
    Bytes plaintext = EncodeSharePlaintext(ctx_.id, to, self_mask_shares[i], masking_key_shares[i]);
    auto sealed = AesGcmSeal(key, nonce, plaintext,
                             ShareAssociatedData(session_id, params.round_id(), ctx_.id, to));
    Zeroize(absl::MakeSpan(plaintext));
    if (!sealed.ok()) return sealed.status();
    auto* share = share_keys->add_shares();
    share->set_sender_id(ctx_.id);
    share->set_recipient_id(to);
    share->set_nonce(ToString(nonce));
    share->set_ciphertext(ToString(*sealed));
  }
  // This client keeps its own shares of its two secrets (it holds a point too).
  DecodedShares own;
  own.self_mask = self_mask_shares[own_index];
  own.masking_key = masking_key_shares[own_index];
  ctx_.peer_keys = std::move(peer_keys);
  ctx_.session_id = session_id;
  out.next = std::make_unique<ClientMaskedInputState>(env_, std::move(ctx_), std::move(own));
  return out;
}

}  // namespace tacit::secagg
