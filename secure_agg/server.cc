#include "secure_agg/server.h"

#include "secure_agg/server/failed_state.h"
#include "secure_agg/server/not_started_state.h"
#include "secure_agg/server/server_state.h"

namespace tacit::secagg {

std::optional<Phase> ProtocolPhaseOf(ServerPhase phase) {
  switch (phase) {
    case ServerPhase::kAdvertiseKeys:
      return Phase::kAdvertiseKeys;
    case ServerPhase::kShareKeys:
      return Phase::kShareKeys;
    case ServerPhase::kMaskedInput:
      return Phase::kMaskedInput;
    case ServerPhase::kConsistencyCheck:
      return Phase::kConsistencyCheck;
    case ServerPhase::kUnmasking:
      return Phase::kUnmasking;
    case ServerPhase::kNotStarted:
    case ServerPhase::kCompleted:
    case ServerPhase::kFailed:
      break;
  }
  return std::nullopt;
}

const char* ServerPhaseName(ServerPhase phase) {
  if (std::optional<Phase> p = ProtocolPhaseOf(phase)) return PhaseName(*p);
  switch (phase) {
    case ServerPhase::kNotStarted:
      return "not_started";
    case ServerPhase::kCompleted:
      return "completed";
    default:
      return "failed";
  }
}

absl::StatusOr<std::unique_ptr<SecAggServer>> SecAggServer::Create(ServerConfig config) {
  absl::StatusOr<std::shared_ptr<const ServerRound>> round = ServerRound::Create(std::move(config));
  if (!round.ok()) return round.status();
  auto state = std::make_unique<ServerNotStartedState>(*round);
  return std::unique_ptr<SecAggServer>(new SecAggServer(std::move(*round), std::move(state)));
}

SecAggServer::SecAggServer(std::shared_ptr<const ServerRound> round,
                           std::unique_ptr<ServerState> state)
    : round_(std::move(round)), state_(std::move(state)) {}

SecAggServer::~SecAggServer() = default;

absl::Status SecAggServer::HandleClientMessage(uint32_t client_id,
                                               const v1::SecAggClientToServer& message) {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->HandleClientMessage(client_id, message);
}

absl::StatusOr<PhaseOutcome> SecAggServer::AdvancePhase() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<ServerState::Transition> transition = state_->Advance();
  if (!transition.ok()) {
    // Completed and Failed refuse to advance and stay; any other failure ends
    // the round, and the state's data (sum, shares) is freed with it.
    if (state_->phase() != ServerPhase::kCompleted && state_->phase() != ServerPhase::kFailed) {
      state_ = std::make_unique<ServerFailedState>(round_, transition.status());
    }
    return transition.status();
  }
  state_ = std::move(transition->next);
  return std::move(transition->outcome);
}

ServerPhase SecAggServer::phase() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->phase();
}

std::vector<uint32_t> SecAggServer::PendingClients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->PendingClients();
}

std::vector<uint32_t> SecAggServer::NeighborsOf(uint32_t client_id) const {
  return round_->graph.NeighborsOf(client_id);
}

const NoWrapReport& SecAggServer::no_wrap_report() const { return round_->report; }
const ServerConfig& SecAggServer::config() const { return round_->config; }

}  // namespace tacit::secagg
