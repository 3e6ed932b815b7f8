#include "secure_agg/server/advertise_keys_state.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/advertised_keys.h"
#include "secure_agg/identity.h"
#include "secure_agg/server/share_keys_state.h"

namespace tacit::secagg {

absl::Status ServerAdvertiseKeysState::HandlePhaseMessage(uint32_t id,
                                                          const v1::SecAggClientToServer& message) {
  const v1::SecAggAdvertiseKeys& m = message.advertise_keys();
  // A refused client is not recorded: it is dropped when the phase ends, and
  // the round goes on without it.
  TACIT_RETURN_IF_ERROR(
      CheckAdvertisedKeyPair(id, m.encryption_public_key(), m.masking_public_key()));
  // Keys are fresh random draws: one equal to a key already advertised was
  // copied (clients see no key before the broadcast, so the first to
  // advertise a key is the honest one).
  for (const std::string* key : {&m.encryption_public_key(), &m.masking_public_key()}) {
    if (advertised_.count(*key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", id,
                       " advertised a public key another client already advertised; it is "
                       "dropped from the round"));
    }
  }
  v1::SecAggPublicKeys keys;
  keys.set_client_id(id);
  keys.set_encryption_public_key(m.encryption_public_key());
  keys.set_masking_public_key(m.masking_public_key());
  keys.set_identity(m.identity());
  keys.set_signature(m.signature());
  if (round_->config.verifier) {
    TACIT_RETURN_IF_ERROR(
        CheckAdvertisementSignature(*round_->config.verifier, round_->CommonParameters(), keys));
    if (!identities_.insert(m.identity()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "client ", id,
          " advertised an identity another client already holds a seat with; it is dropped"));
    }
  }
  advertised_.insert(m.encryption_public_key());
  advertised_.insert(m.masking_public_key());
  keys_[id] = std::move(keys);
  return absl::OkStatus();
}

absl::StatusOr<ServerState::Transition> ServerAdvertiseKeysState::Advance() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors());
  // The next phase's shares are held in a file with no name (share_spool.h);
  // one that cannot be made fails the round here, not as some client's fault.
  TACIT_ASSIGN_OR_RETURN(std::shared_ptr<ShareSpool> spool, ShareSpool::Create());
  std::vector<v1::SecAggPublicKeys> sorted;
  for (uint32_t id : responded_) sorted.push_back(keys_.at(id));
  TACIT_ASSIGN_OR_RETURN(session_id_, ComputeSessionId(round_->CommonParameters(), sorted));
  // keys_ holds exactly the clients that responded: the broadcast goes to
  // each of them, built when fetched from this one map and the round's graph.
  auto keys = std::make_shared<const PublicKeyMap>(std::move(keys_));
  Transition out;
  out.outcome.messages = ServerMessages::KeyBroadcast(
      Envelope(), keys, std::shared_ptr<const NeighborGraph>(round_, &round_->graph));
  out.next = std::make_unique<ServerShareKeysState>(
      round_, std::move(responded_), std::move(session_id_), std::move(keys), std::move(spool));
  return out;
}

}  // namespace tacit::secagg
