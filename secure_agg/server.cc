#include "secure_agg/server.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/crypto.h"
#include "secure_agg/masking.h"
#include "secure_agg/neighbor_graph.h"
#include "secure_agg/protocol.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {
namespace {

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

constexpr size_t kShareCiphertextBytes = 16 + 2 * kShamirChunks * 8 + kGcmTagBytes;

const char* StepName(v1::SecAggClientToServer::StepCase step) {
  switch (step) {
    case v1::SecAggClientToServer::kAdvertiseKeys:
      return "advertise_keys";
    case v1::SecAggClientToServer::kShareKeys:
      return "share_keys";
    case v1::SecAggClientToServer::kMaskedInput:
      return "masked_input";
    case v1::SecAggClientToServer::kUnmaskingResponse:
      return "unmasking_response";
    default:
      return "empty";
  }
}

v1::SecAggClientToServer::StepCase ExpectedStep(ServerPhase phase) {
  switch (phase) {
    case ServerPhase::kAdvertiseKeys:
      return v1::SecAggClientToServer::kAdvertiseKeys;
    case ServerPhase::kShareKeys:
      return v1::SecAggClientToServer::kShareKeys;
    case ServerPhase::kMaskedInput:
      return v1::SecAggClientToServer::kMaskedInput;
    case ServerPhase::kUnmasking:
      return v1::SecAggClientToServer::kUnmaskingResponse;
    default:
      return v1::SecAggClientToServer::STEP_NOT_SET;
  }
}

// Shares collected for one client's secret during unmasking.
struct ShareSet {
  std::vector<ShamirShare> shares;
};

// One encrypted share held for its recipient between the share-keys phase
// and its delivery. Fixed-size fields, no allocation per share: a degree-312
// round of 1,000 clients holds ~312,000 of them, which as protobuf messages
// cost ~4x the 128 bytes here (measured in the coordinator's peak memory).
struct HeldShare {
  uint32_t sender = 0;
  std::array<char, kGcmNonceBytes> nonce{};
  std::array<char, kShareCiphertextBytes> ciphertext{};
};

}  // namespace

// One state per phase is kept as `phase_` plus the data that phase collects;
// each Advance*() is the transition out of that phase.
class SecAggServer::Impl {
 public:
  Impl(ServerConfig config, NeighborGraph graph, SecretKey graph_seed, NoWrapReport report)
      : config_(std::move(config)),
        graph_(std::move(graph)),
        graph_seed_(graph_seed),
        report_(report),
        cohort_(config_.cohort_ids.begin(), config_.cohort_ids.end()) {
    expected_ = cohort_;
  }

  absl::Status Handle(uint32_t id, const v1::SecAggClientToServer& message);
  absl::StatusOr<PhaseOutcome> Advance();

  std::mutex mu_;  // serialises the public calls; config_ and graph_ are immutable
  ServerConfig config_;
  NeighborGraph graph_;
  SecretKey graph_seed_;
  NoWrapReport report_;
  ServerPhase phase_ = ServerPhase::kNotStarted;
  std::set<uint32_t> cohort_;
  std::set<uint32_t> expected_;   // clients alive at the start of this phase
  std::set<uint32_t> responded_;  // clients that sent this phase's message
  Bytes session_id_;

  // Phase data.
  std::map<uint32_t, v1::SecAggPublicKeys> keys_;     // U1
  std::map<uint32_t, std::vector<HeldShare>> inbox_;  // by recipient
  std::set<uint32_t> shared_;                         // U2
  std::vector<uint64_t> sum_;                         // running masked sum
  std::map<uint32_t, std::set<uint32_t>> asked_survivors_, asked_dropped_;
  std::map<uint32_t, ShareSet> self_mask_shares_, masking_key_shares_;  // by owner

 private:
  absl::Status HandleAdvertise(uint32_t id, const v1::SecAggAdvertiseKeys& m);
  absl::Status HandleShareKeys(uint32_t id, const v1::SecAggShareKeys& m);
  absl::Status HandleMaskedInput(uint32_t id, const v1::SecAggMaskedInput& m);
  absl::Status HandleUnmasking(uint32_t id, const v1::SecAggUnmaskingResponse& m);

  absl::StatusOr<PhaseOutcome> StartRound();
  absl::StatusOr<PhaseOutcome> BroadcastKeys();
  absl::StatusOr<PhaseOutcome> DeliverShares();
  absl::StatusOr<PhaseOutcome> RequestUnmasking();
  absl::StatusOr<PhaseOutcome> Unmask();

  absl::Status Fail(absl::Status status) {
    phase_ = ServerPhase::kFailed;
    std::vector<uint64_t>().swap(sum_);
    inbox_.clear();
    self_mask_shares_.clear();
    masking_key_shares_.clear();
    return status;
  }
  absl::Status CheckSurvivors(const char* phase_name) {
    if (responded_.size() >= config_.threshold) return absl::OkStatus();
    return Fail(absl::AbortedError(absl::StrCat(
        "round ", config_.round_id, " failed in ", phase_name, ": only ", responded_.size(),
        " clients answered, fewer than the threshold ", config_.threshold,
        "; nothing was revealed, retry the round with a new cohort")));
  }
  v1::SecAggServerToClient Envelope() const {
    v1::SecAggServerToClient out;
    out.set_round_id(config_.round_id);
    out.set_session_id(std::string(session_id_.begin(), session_id_.end()));
    return out;
  }
  v1::SecAggRoundParameters CommonParameters() const {
    v1::SecAggRoundParameters p;
    p.set_round_id(config_.round_id);
    p.set_threshold(config_.threshold);
    p.set_bits(config_.bits);
    p.set_clip_bound(config_.clip_bound);
    p.set_scale(config_.scale);
    p.set_max_weight(config_.max_weight);
    p.set_vector_length(config_.vector_length);
    p.set_cohort_size(static_cast<uint32_t>(cohort_.size()));
    p.set_neighbors(graph_.complete() ? 0 : config_.neighbors);
    p.set_graph_seed(std::string(graph_seed_.data(), graph_seed_.data() + kKeyBytes));
    return p;
  }
  // Moves to the next phase: its expected clients are this phase's responders.
  void NextPhase(ServerPhase phase) {
    phase_ = phase;
    expected_ = std::move(responded_);
    responded_.clear();
  }
};

absl::Status SecAggServer::Impl::Handle(uint32_t id, const v1::SecAggClientToServer& message) {
  if (!cohort_.count(id)) {
    return absl::NotFoundError(
        absl::StrCat("client ", id, " is not in round ", config_.round_id, "'s cohort"));
  }
  const auto expected_step = ExpectedStep(phase_);
  if (expected_step == v1::SecAggClientToServer::STEP_NOT_SET) {
    return absl::FailedPreconditionError(
        absl::StrCat("the round is ", ServerPhaseName(phase_), " and accepts no client messages"));
  }
  if (message.round_id() != config_.round_id) {
    return absl::UnauthenticatedError(absl::StrCat("message from client ", id, " is for round ",
                                                   message.round_id(), ", not ", config_.round_id));
  }
  if (phase_ != ServerPhase::kAdvertiseKeys &&
      !ConstantTimeEquals(AsBytes(message.session_id()), session_id_)) {
    return absl::UnauthenticatedError(
        absl::StrCat("message from client ", id, " carries another session id"));
  }
  if (message.step_case() != expected_step) {
    return absl::FailedPreconditionError(absl::StrCat("out of phase: client ", id, " sent ",
                                                      StepName(message.step_case()), " during ",
                                                      ServerPhaseName(phase_)));
  }
  if (!expected_.count(id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client ", id, " dropped out in an earlier phase and cannot rejoin this round"));
  }
  if (responded_.count(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("duplicate ", StepName(message.step_case()), " from client ", id));
  }
  absl::Status status;
  switch (phase_) {
    case ServerPhase::kAdvertiseKeys:
      status = HandleAdvertise(id, message.advertise_keys());
      break;
    case ServerPhase::kShareKeys:
      status = HandleShareKeys(id, message.share_keys());
      break;
    case ServerPhase::kMaskedInput:
      status = HandleMaskedInput(id, message.masked_input());
      break;
    default:
      status = HandleUnmasking(id, message.unmasking_response());
      break;
  }
  if (status.ok()) responded_.insert(id);
  return status;
}

absl::Status SecAggServer::Impl::HandleAdvertise(uint32_t id, const v1::SecAggAdvertiseKeys& m) {
  if (m.encryption_public_key().size() != kKeyBytes || m.masking_public_key().size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("client ", id, "'s advertised public keys must be 32 bytes each"));
  }
  v1::SecAggPublicKeys keys;
  keys.set_client_id(id);
  keys.set_encryption_public_key(m.encryption_public_key());
  keys.set_masking_public_key(m.masking_public_key());
  keys_[id] = std::move(keys);
  return absl::OkStatus();
}

absl::Status SecAggServer::Impl::HandleShareKeys(uint32_t id, const v1::SecAggShareKeys& m) {
  // Every advertised neighbour must get exactly one share.
  std::set<uint32_t> want;
  for (uint32_t n : graph_.NeighborsOf(id)) {
    if (expected_.count(n)) want.insert(n);
  }
  std::set<uint32_t> seen;
  for (const auto& share : m.shares()) {
    if (share.sender_id() != id) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", id, " sent a share claiming sender ", share.sender_id()));
    }
    if (!want.count(share.recipient_id()) || !seen.insert(share.recipient_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", id, " sent a share for ", share.recipient_id(),
                       ", which is not an advertised neighbour or was already addressed"));
    }
    if (share.nonce().size() != kGcmNonceBytes ||
        share.ciphertext().size() != kShareCiphertextBytes) {
      return absl::InvalidArgumentError(absl::StrCat("client ", id, "'s share for ",
                                                     share.recipient_id(),
                                                     " has the wrong nonce or ciphertext size"));
    }
  }
  if (seen.size() != want.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("client ", id, " shared with ", seen.size(), " of its ", want.size(),
                     " advertised neighbours; it must share with all"));
  }
  for (const auto& share : m.shares()) {
    std::vector<HeldShare>& box = inbox_[share.recipient_id()];
    if (box.empty()) box.reserve(graph_.NeighborsOf(share.recipient_id()).size());
    HeldShare& held = box.emplace_back();
    held.sender = id;
    std::copy(share.nonce().begin(), share.nonce().end(), held.nonce.begin());
    std::copy(share.ciphertext().begin(), share.ciphertext().end(), held.ciphertext.begin());
  }
  return absl::OkStatus();
}

absl::Status SecAggServer::Impl::HandleMaskedInput(uint32_t id, const v1::SecAggMaskedInput& m) {
  if (m.length() != sum_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("client ", id, "'s masked input has ",
                                                   m.length(), " elements, expected ", sum_.size(),
                                                   " (vector length + weight)"));
  }
  // Added as it arrives: the server keeps one vector, not one per client.
  return AddPackedResidues(AsBytes(m.packed()), config_.bits, absl::MakeSpan(sum_));
}

absl::Status SecAggServer::Impl::HandleUnmasking(uint32_t id,
                                                 const v1::SecAggUnmaskingResponse& m) {
  const auto& survivors = asked_survivors_[id];
  const auto& dropped = asked_dropped_[id];
  auto check = [&](const auto& list, const std::set<uint32_t>& asked) -> absl::Status {
    std::set<uint32_t> seen;
    for (const auto& share : list) {
      if (!asked.count(share.owner_id()) || !seen.insert(share.owner_id()).second) {
        return absl::InvalidArgumentError(absl::StrCat("client ", id, " returned a share of ",
                                                       share.owner_id(),
                                                       " that was not asked for, or twice"));
      }
      if (share.values_size() != static_cast<int>(kShamirChunks)) {
        return absl::InvalidArgumentError(absl::StrCat("client ", id, "'s share of ",
                                                       share.owner_id(), " has ",
                                                       share.values_size(), " values"));
      }
      for (uint64_t v : share.values()) {
        if (v >= kShamirPrime) return absl::InvalidArgumentError("share value outside the field");
      }
    }
    return absl::OkStatus();
  };
  TACIT_RETURN_IF_ERROR(check(m.self_mask_shares(), survivors));
  TACIT_RETURN_IF_ERROR(check(m.masking_key_shares(), dropped));
  auto store = [&](const auto& list, std::map<uint32_t, ShareSet>& into) {
    for (const auto& share : list) {
      ShamirShare s;
      s.holder_id = id;
      s.values.assign(share.values().begin(), share.values().end());
      into[share.owner_id()].shares.push_back(std::move(s));
    }
  };
  store(m.self_mask_shares(), self_mask_shares_);
  store(m.masking_key_shares(), masking_key_shares_);
  return absl::OkStatus();
}

absl::StatusOr<PhaseOutcome> SecAggServer::Impl::Advance() {
  switch (phase_) {
    case ServerPhase::kNotStarted:
      return StartRound();
    case ServerPhase::kAdvertiseKeys:
      return BroadcastKeys();
    case ServerPhase::kShareKeys:
      return DeliverShares();
    case ServerPhase::kMaskedInput:
      return RequestUnmasking();
    case ServerPhase::kUnmasking:
      return Unmask();
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("the round is already ", ServerPhaseName(phase_)));
  }
}

absl::StatusOr<PhaseOutcome> SecAggServer::Impl::StartRound() {
  PhaseOutcome out;
  const v1::SecAggRoundParameters common = CommonParameters();
  for (uint32_t id : cohort_) {
    v1::SecAggServerToClient msg = Envelope();
    auto* params = msg.mutable_round_start()->mutable_parameters();
    *params = common;
    for (uint32_t n : graph_.NeighborsOf(id)) params->add_neighbor_ids(n);
    out.messages.emplace(id, std::move(msg));
  }
  phase_ = ServerPhase::kAdvertiseKeys;
  expected_ = cohort_;
  responded_.clear();
  return out;
}

absl::StatusOr<PhaseOutcome> SecAggServer::Impl::BroadcastKeys() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors("advertise keys"));
  std::vector<v1::SecAggPublicKeys> sorted;
  for (uint32_t id : responded_) sorted.push_back(keys_.at(id));
  TACIT_ASSIGN_OR_RETURN(session_id_, ComputeSessionId(CommonParameters(), sorted));
  PhaseOutcome out;
  for (uint32_t id : responded_) {
    v1::SecAggServerToClient msg = Envelope();
    auto* broadcast = msg.mutable_keys_broadcast();
    *broadcast->add_keys() = keys_.at(id);
    for (uint32_t n : graph_.NeighborsOf(id)) {
      if (responded_.count(n)) *broadcast->add_keys() = keys_.at(n);
    }
    out.messages.emplace(id, std::move(msg));
  }
  NextPhase(ServerPhase::kShareKeys);
  return out;
}

absl::StatusOr<PhaseOutcome> SecAggServer::Impl::DeliverShares() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors("share keys"));
  shared_ = responded_;
  PhaseOutcome out;
  for (uint32_t id : responded_) {
    v1::SecAggServerToClient msg = Envelope();
    auto* delivery = msg.mutable_shares_delivery();
    std::vector<HeldShare>& box = inbox_[id];
    for (const HeldShare& held : box) {
      // Only shares from clients that completed this phase count.
      if (!responded_.count(held.sender)) continue;
      v1::SecAggEncryptedShare* share = delivery->add_shares();
      share->set_sender_id(held.sender);
      share->set_recipient_id(id);
      share->set_nonce(held.nonce.data(), held.nonce.size());
      share->set_ciphertext(held.ciphertext.data(), held.ciphertext.size());
    }
    std::vector<HeldShare>().swap(box);  // freed as the deliveries are built
    out.messages.emplace(id, std::move(msg));
  }
  inbox_.clear();
  sum_.assign(config_.vector_length + 1, 0);
  NextPhase(ServerPhase::kMaskedInput);
  return out;
}

absl::StatusOr<PhaseOutcome> SecAggServer::Impl::RequestUnmasking() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors("masked input"));
  PhaseOutcome out;
  for (uint32_t id : responded_) {
    auto& survivors = asked_survivors_[id];
    auto& dropped = asked_dropped_[id];
    survivors.insert(id);
    for (uint32_t n : graph_.NeighborsOf(id)) {
      if (!shared_.count(n)) continue;  // no shares of n held by id
      (responded_.count(n) ? survivors : dropped).insert(n);
    }
    v1::SecAggServerToClient msg = Envelope();
    auto* request = msg.mutable_unmasking_request();
    for (uint32_t s : survivors) request->add_survivor_ids(s);
    for (uint32_t d : dropped) request->add_dropped_ids(d);
    out.messages.emplace(id, std::move(msg));
  }
  NextPhase(ServerPhase::kUnmasking);
  return out;
}

absl::StatusOr<PhaseOutcome> SecAggServer::Impl::Unmask() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors("unmasking"));
  const std::set<uint32_t>& survivors = expected_;  // U3: their inputs are in the sum
  const uint32_t t = config_.threshold;
  auto reconstruct = [&](std::map<uint32_t, ShareSet>& sets, uint32_t owner,
                         const char* what) -> absl::StatusOr<SecretKey> {
    auto& shares = sets[owner].shares;
    if (shares.size() < t) {
      return Fail(absl::AbortedError(
          absl::StrCat("round ", config_.round_id, " failed in unmasking: only ", shares.size(),
                       " of ", t, " needed shares of client ", owner, "'s ", what,
                       " arrived; retry the round with a new cohort")));
    }
    auto secret = ShamirReconstruct(shares, t);
    if (!secret.ok()) {
      // Shares were validated on arrival, so a failure here means they are
      // inconsistent: corrupted by a holder or in transit.
      return Fail(
          absl::DataLossError(absl::StrCat("shares of client ", owner, "'s ", what,
                                           " are inconsistent: ", secret.status().message())));
    }
    return secret;
  };

  std::vector<MaskTerm> terms;
  for (uint32_t u : survivors) {
    TACIT_ASSIGN_OR_RETURN(SecretKey seed, reconstruct(self_mask_shares_, u, "self mask"));
    terms.push_back({seed, -1});
  }
  for (uint32_t d : shared_) {
    if (survivors.count(d)) continue;
    std::vector<uint32_t> masked_with;
    for (uint32_t v : graph_.NeighborsOf(d)) {
      if (survivors.count(v)) masked_with.push_back(v);
    }
    if (masked_with.empty()) continue;
    TACIT_ASSIGN_OR_RETURN(SecretKey masking_key,
                           reconstruct(masking_key_shares_, d, "masking key"));
    TACIT_ASSIGN_OR_RETURN(Bytes public_key, X25519PublicFromPrivate(masking_key));
    if (!ConstantTimeEquals(public_key, AsBytes(keys_.at(d).masking_public_key()))) {
      return Fail(absl::DataLossError(
          absl::StrCat("reconstructed masking key of client ", d,
                       " does not match its advertised key: shares were corrupted")));
    }
    for (uint32_t v : masked_with) {
      TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                             X25519Agree(masking_key, AsBytes(keys_.at(v).masking_public_key())));
      TACIT_ASSIGN_OR_RETURN(SecretKey seed,
                             PairwiseMaskSeed(agreed, session_id_, config_.round_id));
      // v added PairSign(v, d) * PRG(seed); remove it.
      terms.push_back({seed, -PairSign(v, d)});
    }
  }
  self_mask_shares_.clear();
  masking_key_shares_.clear();
  absl::Status st =
      ApplyMasksParallel(terms, config_.bits, absl::MakeSpan(sum_), config_.unmask_threads);
  if (!st.ok()) return Fail(st);

  AggregationResult result;
  const size_t n = config_.vector_length;
  result.quantized_sum.resize(n + 1);
  result.weighted_sum.resize(n);
  for (size_t i = 0; i <= n; ++i) result.quantized_sum[i] = FromModular(sum_[i], config_.bits);
  for (size_t i = 0; i < n; ++i) result.weighted_sum[i] = result.quantized_sum[i] / config_.scale;
  result.total_weight = result.quantized_sum[n] / config_.scale;
  result.survivor_ids.assign(survivors.begin(), survivors.end());
  std::vector<uint64_t>().swap(sum_);
  phase_ = ServerPhase::kCompleted;
  PhaseOutcome out;
  out.result = std::move(result);
  return out;
}

const char* ServerPhaseName(ServerPhase phase) {
  switch (phase) {
    case ServerPhase::kNotStarted:
      return "not started";
    case ServerPhase::kAdvertiseKeys:
      return "advertise keys";
    case ServerPhase::kShareKeys:
      return "share keys";
    case ServerPhase::kMaskedInput:
      return "masked input";
    case ServerPhase::kUnmasking:
      return "unmasking";
    case ServerPhase::kCompleted:
      return "completed";
    case ServerPhase::kFailed:
      return "failed";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<SecAggServer>> SecAggServer::Create(ServerConfig config) {
  const size_t n = config.cohort_ids.size();
  if (n < 3) return absl::InvalidArgumentError("a secure aggregation cohort needs >= 3 clients");
  if (config.vector_length == 0) return absl::InvalidArgumentError("vector_length must be > 0");
  TACIT_ASSIGN_OR_RETURN(SecretKey seed, RandomSecretKey());
  TACIT_ASSIGN_OR_RETURN(NeighborGraph graph,
                         NeighborGraph::Create(config.cohort_ids, config.neighbors, seed));
  const size_t holders = graph.complete() ? n : config.neighbors + 1;
  if (config.threshold < 2 || config.threshold > holders) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threshold ", config.threshold, " must be between 2 and the ", holders,
        " share holders per client (see ChooseParameters in secure_agg/parameters.h)"));
  }
  FixedPointParams fp{config.bits, config.clip_bound, config.scale, config.max_weight};
  TACIT_ASSIGN_OR_RETURN(NoWrapReport report, CheckNoWrap(fp, static_cast<uint32_t>(n)));
  return std::unique_ptr<SecAggServer>(
      new SecAggServer(std::make_unique<Impl>(std::move(config), std::move(graph), seed, report)));
}

SecAggServer::SecAggServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SecAggServer::~SecAggServer() = default;

absl::Status SecAggServer::HandleClientMessage(uint32_t client_id,
                                               const v1::SecAggClientToServer& message) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->Handle(client_id, message);
}

absl::StatusOr<PhaseOutcome> SecAggServer::AdvancePhase() {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->Advance();
}

ServerPhase SecAggServer::phase() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->phase_;
}

std::vector<uint32_t> SecAggServer::PendingClients() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  std::vector<uint32_t> out;
  if (ExpectedStep(impl_->phase_) == v1::SecAggClientToServer::STEP_NOT_SET) return out;
  for (uint32_t id : impl_->expected_) {
    if (!impl_->responded_.count(id)) out.push_back(id);
  }
  return out;
}

std::vector<uint32_t> SecAggServer::NeighborsOf(uint32_t client_id) const {
  return impl_->graph_.NeighborsOf(client_id);
}

const NoWrapReport& SecAggServer::no_wrap_report() const { return impl_->report_; }
const ServerConfig& SecAggServer::config() const { return impl_->config_; }

}  // namespace tacit::secagg
