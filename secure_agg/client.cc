#include "secure_agg/client.h"

#include <cmath>

#include "secure_agg/client/aborted_state.h"
#include "secure_agg/client/advertise_keys_state.h"
#include "secure_agg/client/client_state.h"
#include "secure_agg/randomness.h"

namespace tacit::secagg {

std::optional<Phase> ProtocolPhaseOf(ClientPhase phase) {
  switch (phase) {
    case ClientPhase::kAwaitingRoundStart:
      return Phase::kAdvertiseKeys;
    case ClientPhase::kAwaitingKeys:
      return Phase::kShareKeys;
    case ClientPhase::kAwaitingShares:
      return Phase::kMaskedInput;
    case ClientPhase::kAwaitingConsistencyCheck:
      return Phase::kConsistencyCheck;
    case ClientPhase::kAwaitingUnmasking:
      return Phase::kUnmasking;
    case ClientPhase::kCompleted:
    case ClientPhase::kAborted:
      break;
  }
  return std::nullopt;
}

const char* ClientPhaseName(ClientPhase phase) {
  // Built once from the one phase-name table (secure_agg/phase.h).
  static const std::array<std::string, kPhaseCount>* const kAwaiting = [] {
    auto* names = new std::array<std::string, kPhaseCount>();
    for (Phase p : kAllPhases) (*names)[PhaseIndex(p)] = std::string("awaiting ") + PhaseName(p);
    return names;
  }();
  if (std::optional<Phase> p = ProtocolPhaseOf(phase)) return (*kAwaiting)[PhaseIndex(*p)].c_str();
  return phase == ClientPhase::kCompleted ? "completed" : "aborted";
}

SecAggClient::SecAggClient(std::shared_ptr<ClientEnvironment> env)
    : env_(std::move(env)), state_(std::make_unique<ClientAdvertiseKeysState>(env_)) {}

SecAggClient::~SecAggClient() = default;

absl::StatusOr<std::unique_ptr<SecAggClient>> SecAggClient::Create(ClientConfig config,
                                                                   std::vector<float> input,
                                                                   double weight) {
  auto shared = std::make_shared<std::vector<float>>(std::move(input));
  return CreateWithProvider(
      std::move(config),
      [shared]() -> absl::StatusOr<std::vector<float>> { return std::move(*shared); }, weight);
}

absl::StatusOr<std::unique_ptr<SecAggClient>> SecAggClient::CreateWithProvider(ClientConfig config,
                                                                               InputProvider input,
                                                                               double weight) {
  if (!input) return absl::InvalidArgumentError("the input provider is empty");
  if (!(weight >= 0) || !std::isfinite(weight)) {
    return absl::InvalidArgumentError("weight must be a finite number >= 0");
  }
  auto env = std::make_shared<ClientEnvironment>();
  env->random = ResolveRandomSource(config.random);
  env->config = std::move(config);
  env->input = std::move(input);
  env->weight = weight;
  return std::unique_ptr<SecAggClient>(new SecAggClient(std::move(env)));
}

absl::StatusOr<v1::SecAggClientToServer> SecAggClient::HandleServerMessage(
    const v1::SecAggServerToClient& message) {
  absl::StatusOr<ClientState::Transition> transition = state_->Handle(message);
  if (!transition.ok()) {
    // An out-of-phase message leaves the client where it is (a late duplicate
    // from the transport); anything else (a bad or malicious message) ends its
    // round.
    if (!absl::IsFailedPrecondition(transition.status())) {
      state_ = std::make_unique<ClientAbortedState>(transition.status());
    }
    return transition.status();
  }
  state_ = std::move(transition->next);
  return std::move(transition->reply);
}

ClientPhase SecAggClient::phase() const { return state_->phase(); }
uint32_t SecAggClient::id() const { return env_->config.client_id; }

}  // namespace tacit::secagg
