#include "secure_agg/server/server_state.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/protocol.h"
#include "secure_agg/randomness.h"

namespace tacit::secagg {

absl::StatusOr<std::shared_ptr<const ServerRound>> ServerRound::Create(ServerConfig config) {
  const size_t n = config.cohort_ids.size();
  if (n < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a secure aggregation cohort needs >= 3 clients (ServerConfig::cohort_ids has ", n, ")"));
  }
  if (config.vector_length == 0) {
    return absl::InvalidArgumentError("ServerConfig::vector_length must be > 0");
  }
  if (config.unchecked_prefix > config.vector_length) {
    return absl::InvalidArgumentError(absl::StrCat("ServerConfig::unchecked_prefix ",
                                                   config.unchecked_prefix, " exceeds the ",
                                                   config.vector_length, " coordinates"));
  }
  std::shared_ptr<RandomSource> random = ResolveRandomSource(config.random);
  TACIT_ASSIGN_OR_RETURN(SecretKey seed, DrawSecretKey(*random));
  TACIT_ASSIGN_OR_RETURN(NeighborGraph graph,
                         NeighborGraph::Create(config.cohort_ids, config.neighbors, seed));
  const size_t holders = graph.complete() ? n : config.neighbors + 1;
  if (config.threshold < 2 || config.threshold > holders) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threshold ", config.threshold, " must be between 2 and the ", holders,
        " share holders per client (see ChooseParameters in secure_agg/parameters.h)"));
  }
  if (!(config.min_weight >= 0 && config.min_weight <= config.max_weight)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerConfig::min_weight ", config.min_weight,
                     " must lie in [0, max_weight = ", config.max_weight, "]"));
  }
  FixedPointParams fp{config.bits, config.clip_bound, config.scale, config.max_weight};
  TACIT_ASSIGN_OR_RETURN(NoWrapReport report, CheckNoWrap(fp, static_cast<uint32_t>(n)));
  auto round = std::make_shared<ServerRound>(
      ServerRound{std::move(config), std::move(graph), seed, report, std::set<uint32_t>()});
  round->cohort.insert(round->config.cohort_ids.begin(), round->config.cohort_ids.end());
  return std::shared_ptr<const ServerRound>(std::move(round));
}

v1::SecAggRoundParameters ServerRound::CommonParameters() const {
  v1::SecAggRoundParameters p;
  p.set_round_id(config.round_id);
  p.set_threshold(config.threshold);
  p.set_bits(config.bits);
  p.set_clip_bound(config.clip_bound);
  p.set_scale(config.scale);
  p.set_max_weight(config.max_weight);
  p.set_vector_length(config.vector_length);
  p.set_cohort_size(static_cast<uint32_t>(cohort.size()));
  p.set_neighbors(graph.complete() ? 0 : config.neighbors);
  p.set_graph_seed(std::string(graph_seed.data(), graph_seed.data() + kKeyBytes));
  return p;
}

absl::Status ServerState::HandleClientMessage(uint32_t id,
                                              const v1::SecAggClientToServer& message) {
  if (!round_->cohort.count(id)) {
    return absl::NotFoundError(
        absl::StrCat("client ", id, " is not in round ", config().round_id, "'s cohort"));
  }
  const std::optional<Phase> phase = protocol_phase();
  if (!phase) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the round is ", ServerPhaseName(this->phase()), " and accepts no client messages"));
  }
  if (message.round_id() != config().round_id) {
    return absl::UnauthenticatedError(absl::StrCat("message from client ", id, " is for round ",
                                                   message.round_id(), ", not ",
                                                   config().round_id));
  }
  if (*phase != Phase::kAdvertiseKeys &&
      !ConstantTimeEquals(AsBytes(message.session_id()), session_id_)) {
    return absl::UnauthenticatedError(
        absl::StrCat("message from client ", id, " carries another session id"));
  }
  if (message.step_case() != ClientStepOf(*phase)) {
    return absl::FailedPreconditionError(absl::StrCat("out of phase: client ", id, " sent ",
                                                      DescribeStep(message), " during ",
                                                      PhaseName(*phase)));
  }
  if (!expected_.count(id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client ", id, " dropped out in an earlier phase and cannot rejoin this round"));
  }
  if (responded_.count(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("duplicate ", DescribeStep(message), " from client ", id));
  }
  TACIT_RETURN_IF_ERROR(HandlePhaseMessage(id, message));
  responded_.insert(id);
  return absl::OkStatus();
}

absl::Status ServerState::HandlePhaseMessage(uint32_t id, const v1::SecAggClientToServer&) {
  return absl::FailedPreconditionError(absl::StrCat("the round is ", ServerPhaseName(phase()),
                                                    " and accepts no message from client ", id));
}

std::vector<uint32_t> ServerState::PendingClients() const {
  std::vector<uint32_t> out;
  if (!protocol_phase()) return out;
  for (uint32_t id : expected_) {
    if (!responded_.count(id)) out.push_back(id);
  }
  return out;
}

absl::Status ServerState::CheckSurvivors() const {
  if (responded_.size() >= config().threshold) return absl::OkStatus();
  const std::optional<Phase> phase = protocol_phase();
  return absl::AbortedError(absl::StrCat(
      "round ", config().round_id, " failed in ", phase ? PhaseName(*phase) : "no phase", ": only ",
      responded_.size(), " clients answered, fewer than the threshold ", config().threshold,
      "; nothing was revealed, retry the round with a new cohort"));
}

v1::SecAggServerToClient ServerState::Envelope() const {
  v1::SecAggServerToClient out;
  out.set_round_id(config().round_id);
  out.set_session_id(std::string(session_id_.begin(), session_id_.end()));
  return out;
}

}  // namespace tacit::secagg
