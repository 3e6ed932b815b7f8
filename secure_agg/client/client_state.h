#pragma once

// The base of the client's states, one class per phase (fcp/secagg shape):
//   ClientAdvertiseKeysState  -(SecAggRoundStart)->       replies SecAggAdvertiseKeys
//   ClientShareKeysState      -(SecAggKeysBroadcast)->    replies SecAggShareKeys
//   ClientMaskedInputState    -(SecAggSharesDelivery)->   replies SecAggMaskedInput
//   ClientConsistencyCheckState -(SecAggConsistencyCheck)-> replies SecAggConsistencyResponse
//   ClientUnmaskingState      -(SecAggUnmaskingRequest)-> replies SecAggUnmaskingResponse
//   ClientCompletedState, ClientAbortedState: accept nothing more.
// Each state's Handle() returns the next state and the reply to send; it can
// only construct the state that follows it, so an illegal transition cannot be
// written. A state does no I/O: the reply is returned, not sent. On error the
// state is left as it was (the facade, secure_agg/client.h, decides to abort).

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/client.h"
#include "secure_agg/crypto.h"
#include "secure_agg/protocol.h"
#include "secure_agg/randomness.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

// What every state of one client shares: its configuration, its input, its
// weight and its randomness (never null: the config's source, or production).
struct ClientEnvironment {
  ClientConfig config;
  InputProvider input;
  double weight = 0;
  std::shared_ptr<RandomSource> random;
};

// Everything the client knows about the round once it started; moved from one
// phase's state to the next.
struct RoundContext {
  uint32_t id = 0;
  v1::SecAggRoundParameters params;
  X25519KeyPair encryption_keys;
  X25519KeyPair masking_keys;
  SecretKey self_mask_seed;
  std::set<uint32_t> graph_neighbors;
  Bytes session_id;                                    // set from the key broadcast on
  std::map<uint32_t, v1::SecAggPublicKeys> peer_keys;  // advertised neighbours (not self)
};

// Shares this client holds of its own two secrets and of the neighbours that
// shared with it; wiped when destroyed.
struct HeldShares {
  std::map<uint32_t, DecodedShares> by_owner;  // owner id -> shares of its two secrets
  HeldShares() = default;
  HeldShares(HeldShares&&) = default;
  HeldShares& operator=(HeldShares&&) = default;
  ~HeldShares();
};

// Wipes the values of a share (they are secret until revealed).
void WipeShare(ShamirShare& share);
void WipeShares(DecodedShares& shares);

class ClientState {
 public:
  struct Transition {
    std::unique_ptr<ClientState> next;
    v1::SecAggClientToServer reply;
  };

  virtual ~ClientState() = default;
  virtual ClientPhase phase() const = 0;
  // Consumes the server's message for this phase. Errors use the codes of
  // secure_agg/protocol.h; FailedPrecondition means out of phase.
  virtual absl::StatusOr<Transition> Handle(const v1::SecAggServerToClient& message) = 0;
};

// Helpers the states share.
// FailedPrecondition naming the message and the state that did not expect it.
absl::Status OutOfPhase(ClientPhase phase, const v1::SecAggServerToClient& message);
// Unauthenticated unless the message is for this round (and, when
// `check_session`, this session).
absl::Status CheckEnvelope(const RoundContext& ctx, const v1::SecAggServerToClient& message,
                           bool check_session);
// A reply carrying this round's id and session id.
v1::SecAggClientToServer ClientEnvelope(const RoundContext& ctx);

}  // namespace tacit::secagg
