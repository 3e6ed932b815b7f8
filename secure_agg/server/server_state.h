#pragma once

// The base of the server's states, one class per phase (fcp/secagg shape):
//   ServerNotStartedState -> ServerAdvertiseKeysState -> ServerShareKeysState
//   -> ServerMaskedInputState -> ServerConsistencyCheckState
//   -> ServerUnmaskingState -> ServerCompletedState,
// or ServerFailedState from any of them. A state records the clients'
// messages for its phase (HandleClientMessage) and, when the caller ends the
// phase, Advance() returns the next state and the messages to send (or the
// result). A state only constructs the state that follows it, so an illegal
// transition cannot be written. States are not thread-safe: the facade
// (secure_agg/server.h) serialises every call with its mutex.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/status/statusor.h"
#include "secure_agg/crypto.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/neighbor_graph.h"
#include "secure_agg/phase.h"
#include "secure_agg/protocol.h"
#include "secure_agg/server.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

// What the round fixes at creation and never changes: shared by every state.
struct ServerRound {
  ServerConfig config;
  NeighborGraph graph;
  SecretKey graph_seed;  // drawn from the config's RandomSource
  NoWrapReport report;
  std::set<uint32_t> cohort;

  // Validates `config`, draws the graph seed from config.random (or
  // RAND_bytes), builds the neighbour graph and checks that the cohort cannot
  // wrap the sum. InvalidArgument names the field to change.
  static absl::StatusOr<std::shared_ptr<const ServerRound>> Create(ServerConfig config);

  // The parameters every client gets (without its neighbour list).
  v1::SecAggRoundParameters CommonParameters() const;
};

class ServerState {
 public:
  struct Transition {
    std::unique_ptr<ServerState> next;
    PhaseOutcome outcome;
  };

  virtual ~ServerState() = default;
  virtual ServerPhase phase() const = 0;

  // Records one client's message for this phase. Common checks first, in this
  // order (codes of secure_agg/protocol.h): NotFound not in the cohort;
  // FailedPrecondition this state takes no messages; Unauthenticated wrong
  // round or session; FailedPrecondition another phase's message, or a client
  // dropped earlier; AlreadyExists duplicate; then the phase's own checks
  // (InvalidArgument malformed). A rejected message changes nothing.
  absl::Status HandleClientMessage(uint32_t id, const v1::SecAggClientToServer& message);

  // Ends the phase. On error the round is over (the facade moves to
  // ServerFailedState); Aborted when fewer than threshold clients answered.
  virtual absl::StatusOr<Transition> Advance() = 0;

  // Clients expected in this phase that have not sent their message.
  std::vector<uint32_t> PendingClients() const;

 protected:
  ServerState(std::shared_ptr<const ServerRound> round, std::set<uint32_t> expected,
              Bytes session_id)
      : round_(std::move(round)),
        expected_(std::move(expected)),
        session_id_(std::move(session_id)) {}

  // The protocol phase whose client messages this state records; nullopt for
  // states that take none.
  virtual std::optional<Phase> protocol_phase() const = 0;
  // The phase's own checks and bookkeeping; the step case is already checked.
  // Only called when protocol_phase() is set; states without one keep this.
  virtual absl::Status HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer& message);

  // Aborted (nothing revealed) when fewer than threshold clients answered.
  absl::Status CheckSurvivors() const;
  // A server message carrying the round id and session id.
  v1::SecAggServerToClient Envelope() const;
  const ServerConfig& config() const { return round_->config; }

  std::shared_ptr<const ServerRound> round_;
  std::set<uint32_t> expected_;   // clients alive at the start of this phase
  std::set<uint32_t> responded_;  // clients that sent this phase's message
  Bytes session_id_;              // empty until the keys are broadcast
};

}  // namespace tacit::secagg
