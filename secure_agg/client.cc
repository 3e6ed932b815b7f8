#include "secure_agg/client.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/crypto.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/masking.h"
#include "secure_agg/protocol.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {
namespace {

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
std::string ToString(absl::Span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

const char* StepName(v1::SecAggServerToClient::StepCase step) {
  switch (step) {
    case v1::SecAggServerToClient::kRoundStart:
      return "round_start";
    case v1::SecAggServerToClient::kKeysBroadcast:
      return "keys_broadcast";
    case v1::SecAggServerToClient::kSharesDelivery:
      return "shares_delivery";
    case v1::SecAggServerToClient::kUnmaskingRequest:
      return "unmasking_request";
    default:
      return "empty";
  }
}

// Everything the client knows about the round once it started; moved from one
// phase's state to the next.
struct RoundContext {
  uint32_t id = 0;
  v1::SecAggRoundParameters params;
  X25519KeyPair encryption_keys;
  X25519KeyPair masking_keys;
  SecretKey self_mask_seed;
  std::set<uint32_t> graph_neighbors;
  Bytes session_id;
  std::map<uint32_t, v1::SecAggPublicKeys> peer_keys;  // advertised neighbours (not self)
};

// Secrets this client holds for itself and for the neighbours that shared with it.
struct HeldShares {
  std::map<uint32_t, DecodedShares> by_owner;  // owner id -> shares of its two secrets
  ~HeldShares() {
    for (auto& [owner, s] : by_owner) {
      OPENSSL_cleanse(s.self_mask.values.data(), s.self_mask.values.size() * sizeof(uint64_t));
      OPENSSL_cleanse(s.masking_key.values.data(), s.masking_key.values.size() * sizeof(uint64_t));
    }
  }
};

// Masks the quantized vector in place in words of the wire width (4 bytes when
// bits <= 32, else 8) and writes it packed little-endian into `packed`.
template <typename Value>
absl::Status MaskAndPack(std::vector<int64_t> quantized, absl::Span<const MaskTerm> terms,
                         uint32_t bits, std::string* packed) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "packing assumes little-endian");
  std::vector<Value> masked(quantized.size());
  for (size_t i = 0; i < quantized.size(); ++i) masked[i] = static_cast<Value>(quantized[i]);
  std::vector<int64_t>().swap(quantized);
  TACIT_RETURN_IF_ERROR(ApplyMasks(terms, bits, 0, absl::MakeSpan(masked)));
  ReduceModulo(absl::MakeSpan(masked), bits);
  packed->resize(masked.size() * sizeof(Value));
  std::memcpy(packed->data(), masked.data(), packed->size());
  return absl::OkStatus();
}

}  // namespace

// One subclass per phase. Handle() validates the message for this phase and
// returns the reply; `next` receives the state of the following phase.
class SecAggClient::State {
 public:
  virtual ~State() = default;
  virtual ClientPhase phase() const = 0;
  virtual absl::StatusOr<v1::SecAggClientToServer> Handle(SecAggClient& client,
                                                          const v1::SecAggServerToClient& message,
                                                          std::unique_ptr<State>& next) = 0;

 protected:
  // The phases reach the client's own configuration, input and weight here.
  static const ClientConfig& ConfigOf(const SecAggClient& c) { return c.config_; }
  static absl::StatusOr<std::vector<float>> TakeInput(SecAggClient& c) { return c.input_(); }
  static double WeightOf(const SecAggClient& c) { return c.weight_; }
};

namespace {

using State = SecAggClient::State;

// Completed or Aborted: nothing more to do.
class FinalState : public State {
 public:
  explicit FinalState(ClientPhase phase) : phase_(phase) {}
  ClientPhase phase() const override { return phase_; }
  absl::StatusOr<v1::SecAggClientToServer> Handle(SecAggClient&, const v1::SecAggServerToClient&,
                                                  std::unique_ptr<State>&) override {
    return absl::FailedPreconditionError(absl::StrCat(
        "the client's round is ", ClientPhaseName(phase_), "; it accepts no more messages"));
  }

 private:
  ClientPhase phase_;
};

absl::Status CheckEnvelope(const RoundContext& ctx, const v1::SecAggServerToClient& message,
                           bool check_session) {
  if (message.round_id() != ctx.params.round_id()) {
    return absl::UnauthenticatedError(absl::StrCat("message is for round ", message.round_id(),
                                                   ", this client is in round ",
                                                   ctx.params.round_id()));
  }
  if (check_session && !ConstantTimeEquals(AsBytes(message.session_id()), ctx.session_id)) {
    return absl::UnauthenticatedError("message carries another session id than this round's");
  }
  return absl::OkStatus();
}

v1::SecAggClientToServer Envelope(const RoundContext& ctx) {
  v1::SecAggClientToServer out;
  out.set_round_id(ctx.params.round_id());
  out.set_session_id(ToString(ctx.session_id));
  return out;
}

absl::Status WrongStep(ClientPhase phase, const v1::SecAggServerToClient& message) {
  return absl::FailedPreconditionError(absl::StrCat(
      "out of phase: got ", StepName(message.step_case()), " while ", ClientPhaseName(phase)));
}

class AwaitingUnmaskingState : public State {
 public:
  AwaitingUnmaskingState(RoundContext ctx, HeldShares held)
      : ctx_(std::move(ctx)), held_(std::move(held)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingUnmasking; }

  absl::StatusOr<v1::SecAggClientToServer> Handle(SecAggClient&,
                                                  const v1::SecAggServerToClient& message,
                                                  std::unique_ptr<State>& next) override {
    if (!message.has_unmasking_request()) return WrongStep(phase(), message);
    TACIT_RETURN_IF_ERROR(CheckEnvelope(ctx_, message, true));
    const auto& request = message.unmasking_request();
    std::set<uint32_t> survivors(request.survivor_ids().begin(), request.survivor_ids().end());
    std::set<uint32_t> dropped(request.dropped_ids().begin(), request.dropped_ids().end());
    // The server may learn each client's self mask or its masking key, never both:
    // with both it could strip every mask from that client's input.
    for (uint32_t id : dropped) {
      if (survivors.count(id)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "refusing to unmask: client ", id,
            " is listed both as survivor and as dropped, which would reveal both its secrets"));
      }
    }
    if (dropped.count(ctx_.id)) {
      return absl::PermissionDeniedError(
          "refusing to unmask: this client sent its masked input but is listed as dropped, "
          "which would reveal its masking key");
    }
    v1::SecAggClientToServer out = Envelope(ctx_);
    auto* response = out.mutable_unmasking_response();
    for (uint32_t id : survivors) {
      auto it = held_.by_owner.find(id);
      if (it == held_.by_owner.end()) {
        return absl::InvalidArgumentError(absl::StrCat("unmasking request names client ", id,
                                                       ", whose shares this client does "
                                                       "not hold"));
      }
      auto* share = response->add_self_mask_shares();
      share->set_owner_id(id);
      for (uint64_t v : it->second.self_mask.values) share->add_values(v);
    }
    for (uint32_t id : dropped) {
      auto it = held_.by_owner.find(id);
      if (it == held_.by_owner.end()) {
        return absl::InvalidArgumentError(absl::StrCat("unmasking request names client ", id,
                                                       ", whose shares this client does "
                                                       "not hold"));
      }
      auto* share = response->add_masking_key_shares();
      share->set_owner_id(id);
      for (uint64_t v : it->second.masking_key.values) share->add_values(v);
    }
    next = std::make_unique<FinalState>(ClientPhase::kCompleted);
    return out;
  }

 private:
  RoundContext ctx_;
  HeldShares held_;
};

class AwaitingSharesState : public State {
 public:
  AwaitingSharesState(RoundContext ctx, DecodedShares own)
      : ctx_(std::move(ctx)), own_(std::move(own)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingShares; }

  absl::StatusOr<v1::SecAggClientToServer> Handle(SecAggClient& client,
                                                  const v1::SecAggServerToClient& message,
                                                  std::unique_ptr<State>& next) override {
    if (!message.has_shares_delivery()) return WrongStep(phase(), message);
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
          Bytes plaintext,
          AesGcmOpen(key, AsBytes(share.nonce()), AsBytes(share.ciphertext()),
                     ShareAssociatedData(ctx_.session_id, round, sender, ctx_.id)));
      auto decoded = DecodeSharePlaintext(plaintext, sender, ctx_.id);
      OPENSSL_cleanse(plaintext.data(), plaintext.size());
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
    TACIT_ASSIGN_OR_RETURN(std::vector<float> input, TakeInput(client));
    if (input.size() != ctx_.params.vector_length()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input has ", input.size(), " values, the round expects ", ctx_.params.vector_length()));
    }
    FixedPointParams fp{ctx_.params.bits(), ctx_.params.clip_bound(), ctx_.params.scale(),
                        ctx_.params.max_weight()};
    TACIT_ASSIGN_OR_RETURN(
        std::vector<int64_t> quantized,
        QuantizeWeighted(fp, input, WeightOf(client), ConfigOf(client).rounding_key));
    std::vector<float>().swap(input);
    if (ConfigOf(client).on_quantized_input) ConfigOf(client).on_quantized_input(quantized);
    std::vector<MaskTerm> terms;
    terms.push_back({ctx_.self_mask_seed, 1});
    for (const auto& [peer_id, unused] : held.by_owner) {
      TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                             X25519Agree(ctx_.masking_keys.private_key,
                                         AsBytes(ctx_.peer_keys.at(peer_id).masking_public_key())));
      TACIT_ASSIGN_OR_RETURN(SecretKey seed, PairwiseMaskSeed(agreed, ctx_.session_id, round));
      terms.push_back({seed, PairSign(ctx_.id, peer_id)});
    }
    v1::SecAggClientToServer out = Envelope(ctx_);
    auto* masked_input = out.mutable_masked_input();
    masked_input->set_length(quantized.size());
    if (ElementWidth(fp.bits) == 4) {
      TACIT_RETURN_IF_ERROR(MaskAndPack<uint32_t>(std::move(quantized), terms, fp.bits,
                                                  masked_input->mutable_packed()));
    } else {
      TACIT_RETURN_IF_ERROR(MaskAndPack<uint64_t>(std::move(quantized), terms, fp.bits,
                                                  masked_input->mutable_packed()));
    }

    held.by_owner.emplace(ctx_.id, std::move(own_));
    // The masking key and self-mask seed are no longer needed: only shares remain.
    ctx_.masking_keys.private_key = SecretKey();
    ctx_.self_mask_seed = SecretKey();
    ctx_.encryption_keys.private_key = SecretKey();
    next = std::make_unique<AwaitingUnmaskingState>(std::move(ctx_), std::move(held));
    return out;
  }

 private:
  RoundContext ctx_;
  DecodedShares own_;
};

class AwaitingKeysState : public State {
 public:
  explicit AwaitingKeysState(RoundContext ctx) : ctx_(std::move(ctx)) {}
  ClientPhase phase() const override { return ClientPhase::kAwaitingKeys; }

  absl::StatusOr<v1::SecAggClientToServer> Handle(SecAggClient& client,
                                                  const v1::SecAggServerToClient& message,
                                                  std::unique_ptr<State>& next) override {
    if (!message.has_keys_broadcast()) return WrongStep(phase(), message);
    TACIT_RETURN_IF_ERROR(CheckEnvelope(ctx_, message, false));
    const auto& params = ctx_.params;
    if (message.session_id().size() != 32) {
      return absl::UnauthenticatedError("key broadcast must carry a 32-byte session id");
    }
    std::vector<v1::SecAggPublicKeys> keys(message.keys_broadcast().keys().begin(),
                                           message.keys_broadcast().keys().end());
    std::sort(keys.begin(), keys.end(),
              [](const auto& a, const auto& b) { return a.client_id() < b.client_id(); });
    bool saw_self = false;
    std::set<std::string> distinct_keys;
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& k = keys[i];
      if (i > 0 && keys[i - 1].client_id() == k.client_id()) {
        return absl::InvalidArgumentError(
            absl::StrCat("client ", k.client_id(), " appears twice in the key broadcast"));
      }
      if (k.encryption_public_key().size() != kKeyBytes ||
          k.masking_public_key().size() != kKeyBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("client ", k.client_id(), "'s public keys are not 32 bytes"));
      }
      if (!distinct_keys.insert(k.encryption_public_key()).second ||
          !distinct_keys.insert(k.masking_public_key()).second) {
        return absl::InvalidArgumentError("the key broadcast repeats a public key");
      }
      if (k.client_id() == ctx_.id) {
        saw_self =
            ConstantTimeEquals(AsBytes(k.encryption_public_key()),
                               ctx_.encryption_keys.public_key) &&
            ConstantTimeEquals(AsBytes(k.masking_public_key()), ctx_.masking_keys.public_key);
        if (!saw_self) {
          return absl::InvalidArgumentError("the key broadcast has other keys for this client");
        }
      } else if (!ctx_.graph_neighbors.count(k.client_id())) {
        return absl::InvalidArgumentError(
            absl::StrCat("the key broadcast includes client ", k.client_id(), ", not a neighbour"));
      } else {
        ctx_.peer_keys.emplace(k.client_id(), k);
      }
    }
    if (!saw_self) return absl::InvalidArgumentError("the key broadcast omits this client");
    const uint32_t holders = static_cast<uint32_t>(keys.size());
    if (params.threshold() > holders) {
      return absl::AbortedError(absl::StrCat("only ", holders,
                                             " share holders advertised keys, fewer than the "
                                             "threshold ",
                                             params.threshold()));
    }
    if (params.threshold() <= ConfigOf(client).min_threshold_fraction * holders) {
      return absl::InvalidArgumentError(
          absl::StrCat("threshold ", params.threshold(), " is too low for ", holders,
                       " share holders: colluders could reconstruct this client's secrets"));
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
    ctx_.session_id.assign(message.session_id().begin(), message.session_id().end());

    std::vector<uint32_t> holder_ids;
    for (const auto& k : keys) holder_ids.push_back(k.client_id());
    TACIT_ASSIGN_OR_RETURN(auto self_mask_shares,
                           ShamirSplit(ctx_.self_mask_seed, params.threshold(), holder_ids));
    TACIT_ASSIGN_OR_RETURN(auto masking_key_shares, ShamirSplit(ctx_.masking_keys.private_key,
                                                                params.threshold(), holder_ids));
    v1::SecAggClientToServer out = Envelope(ctx_);
    auto* share_keys = out.mutable_share_keys();
    DecodedShares own;
    for (size_t i = 0; i < holder_ids.size(); ++i) {
      const uint32_t to = holder_ids[i];
      if (to == ctx_.id) {
        own.self_mask = std::move(self_mask_shares[i]);
        own.masking_key = std::move(masking_key_shares[i]);
        continue;
      }
      TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                             X25519Agree(ctx_.encryption_keys.private_key,
                                         AsBytes(ctx_.peer_keys.at(to).encryption_public_key())));
      TACIT_ASSIGN_OR_RETURN(SecretKey key, ShareEncryptionKey(agreed, ctx_.session_id,
                                                               params.round_id(), ctx_.id, to));
      Bytes nonce(kGcmNonceBytes);
      TACIT_RETURN_IF_ERROR(RandomBytes(absl::MakeSpan(nonce)));
      Bytes plaintext =
          EncodeSharePlaintext(ctx_.id, to, self_mask_shares[i], masking_key_shares[i]);
      auto sealed =
          AesGcmSeal(key, nonce, plaintext,
                     ShareAssociatedData(ctx_.session_id, params.round_id(), ctx_.id, to));
      OPENSSL_cleanse(plaintext.data(), plaintext.size());
      if (!sealed.ok()) return sealed.status();
      auto* share = share_keys->add_shares();
      share->set_sender_id(ctx_.id);
      share->set_recipient_id(to);
      share->set_nonce(ToString(nonce));
      share->set_ciphertext(ToString(*sealed));
    }
    for (auto* list : {&self_mask_shares, &masking_key_shares}) {
      for (auto& s : *list) OPENSSL_cleanse(s.values.data(), s.values.size() * sizeof(uint64_t));
    }
    next = std::make_unique<AwaitingSharesState>(std::move(ctx_), std::move(own));
    return out;
  }

 private:
  RoundContext ctx_;
};

class AwaitingRoundStartState : public State {
 public:
  ClientPhase phase() const override { return ClientPhase::kAwaitingRoundStart; }

  absl::StatusOr<v1::SecAggClientToServer> Handle(SecAggClient& client,
                                                  const v1::SecAggServerToClient& message,
                                                  std::unique_ptr<State>& next) override {
    if (!message.has_round_start()) return WrongStep(phase(), message);
    const auto& p = message.round_start().parameters();
    if (p.round_id() != message.round_id()) {
      return absl::UnauthenticatedError("round start names two different round ids");
    }
    FixedPointParams fp{p.bits(), p.clip_bound(), p.scale(), p.max_weight()};
    TACIT_RETURN_IF_ERROR(ValidateFixedPointParams(fp));
    if (p.vector_length() == 0 || p.vector_length() > ConfigOf(client).max_vector_length) {
      return absl::InvalidArgumentError(absl::StrCat("vector length ", p.vector_length(),
                                                     " is outside 1..",
                                                     ConfigOf(client).max_vector_length));
    }
    if (p.threshold() < 2 || p.cohort_size() < 3) {
      return absl::InvalidArgumentError("round needs a threshold >= 2 and a cohort >= 3");
    }
    RoundContext ctx;
    ctx.id = ConfigOf(client).client_id;
    ctx.params = p;
    for (uint32_t n : p.neighbor_ids()) {
      if (n == ctx.id || !ctx.graph_neighbors.insert(n).second) {
        return absl::InvalidArgumentError("neighbour list repeats a client or names this one");
      }
    }
    if (ctx.graph_neighbors.size() + 1 > p.cohort_size()) {
      return absl::InvalidArgumentError("more neighbours than the cohort holds");
    }
    TACIT_ASSIGN_OR_RETURN(ctx.encryption_keys, GenerateX25519KeyPair());
    TACIT_ASSIGN_OR_RETURN(ctx.masking_keys, GenerateX25519KeyPair());
    TACIT_ASSIGN_OR_RETURN(ctx.self_mask_seed, RandomSecretKey());
    v1::SecAggClientToServer out = Envelope(ctx);
    out.mutable_advertise_keys()->set_encryption_public_key(
        ToString(ctx.encryption_keys.public_key));
    out.mutable_advertise_keys()->set_masking_public_key(ToString(ctx.masking_keys.public_key));
    next = std::make_unique<AwaitingKeysState>(std::move(ctx));
    return out;
  }
};

}  // namespace

const char* ClientPhaseName(ClientPhase phase) {
  switch (phase) {
    case ClientPhase::kAwaitingRoundStart:
      return "awaiting round start";
    case ClientPhase::kAwaitingKeys:
      return "awaiting keys";
    case ClientPhase::kAwaitingShares:
      return "awaiting shares";
    case ClientPhase::kAwaitingUnmasking:
      return "awaiting unmasking";
    case ClientPhase::kCompleted:
      return "completed";
    case ClientPhase::kAborted:
      return "aborted";
  }
  return "unknown";
}

SecAggClient::SecAggClient(ClientConfig config, InputProvider input, double weight)
    : state_(std::make_unique<AwaitingRoundStartState>()),
      config_(std::move(config)),
      input_(std::move(input)),
      weight_(weight) {}

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
  return std::unique_ptr<SecAggClient>(
      new SecAggClient(std::move(config), std::move(input), weight));
}

absl::StatusOr<v1::SecAggClientToServer> SecAggClient::HandleServerMessage(
    const v1::SecAggServerToClient& message) {
  std::unique_ptr<State> next;
  auto reply = state_->Handle(*this, message, next);
  if (!reply.ok()) {
    // An out-of-phase message leaves the client where it is (a late duplicate
    // from the transport); anything else (a bad or malicious message) ends its
    // round.
    if (!absl::IsFailedPrecondition(reply.status())) {
      state_ = std::make_unique<FinalState>(ClientPhase::kAborted);
    }
    return reply.status();
  }
  state_ = std::move(next);
  return reply;
}

ClientPhase SecAggClient::phase() const { return state_->phase(); }
uint32_t SecAggClient::id() const { return config_.client_id; }

}  // namespace tacit::secagg
