#include "secure_agg/server/unmasking_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"
#include "common/status_macros.h"
#include "secure_agg/crypto.h"
#include "secure_agg/masking.h"
#include "secure_agg/server/completed_state.h"

namespace tacit::secagg {
namespace {

void Wipe(absl::Span<ShamirShare> shares) {
  for (ShamirShare& s : shares) {
    Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(s.values.data()),
                           s.values.size() * sizeof(uint64_t)));
  }
}

const char* SecretName(SharedSecret kind) {
  return kind == SharedSecret::kSelfMaskSeed ? "self mask" : "masking key";
}

}  // namespace

ServerUnmaskingState::~ServerUnmaskingState() = default;

bool ServerUnmaskingState::WasAsked(uint32_t holder, uint32_t owner, SharedSecret kind) const {
  // Survivors (U3) all shared keys (U2): a survivor's self-mask seed was
  // asked of itself and its neighbours, a dropped client's masking key of
  // its neighbours only.
  if (kind == SharedSecret::kSelfMaskSeed) {
    return survivors_.count(owner) != 0 &&
           (owner == holder || round_->graph.AreNeighbors(holder, owner));
  }
  return shared_.count(owner) != 0 && survivors_.count(owner) == 0 &&
         round_->graph.AreNeighbors(holder, owner);
}

template <typename List>
absl::Status ServerUnmaskingState::CheckShares(uint32_t id, const List& list, SharedSecret kind,
                                               std::vector<uint32_t>* owners,
                                               std::vector<uint64_t>* values) const {
  std::set<uint32_t> seen;
  for (const auto& share : list) {
    if (!WasAsked(id, share.owner_id(), kind) || !seen.insert(share.owner_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("client ", id, " returned a share of ",
                                                     share.owner_id(), "'s ", SecretName(kind),
                                                     " that was not asked for, or twice"));
    }
    if (share.values_size() != static_cast<int>(kShamirChunks)) {
      return absl::InvalidArgumentError(absl::StrCat("client ", id, "'s share of ",
                                                     share.owner_id(), " has ", share.values_size(),
                                                     " values, want ", kShamirChunks));
    }
    for (uint64_t v : share.values()) {
      if (v >= kShamirPrime) {
        return absl::InvalidArgumentError(absl::StrCat(
            "client ", id, "'s share of ", share.owner_id(), " has a value outside the field"));
      }
      values->push_back(v);
    }
    owners->push_back(share.owner_id());
  }
  return absl::OkStatus();
}

absl::Status ServerUnmaskingState::HandlePhaseMessage(uint32_t id,
                                                      const v1::SecAggClientToServer& message) {
  const v1::SecAggUnmaskingResponse& m = message.unmasking_response();
  std::vector<uint32_t> self_owners, key_owners;
  std::vector<uint64_t> self_values, key_values;
  // The copies are secret shares: wiped however this returns.
  struct WipeOnExit {
    std::vector<uint64_t>& a;
    std::vector<uint64_t>& b;
    ~WipeOnExit() {
      Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(a.data()), a.size() * sizeof(uint64_t)));
      Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(b.data()), b.size() * sizeof(uint64_t)));
    }
  } wipe{self_values, key_values};
  TACIT_RETURN_IF_ERROR(CheckShares(id, m.self_mask_shares(), SharedSecret::kSelfMaskSeed,
                                    &self_owners, &self_values));
  TACIT_RETURN_IF_ERROR(
      CheckShares(id, m.masking_key_shares(), SharedSecret::kMaskingKey, &key_owners, &key_values));
  TACIT_RETURN_IF_ERROR(shares_->Add(SharedSecret::kSelfMaskSeed, id, self_owners, self_values));
  return shares_->Add(SharedSecret::kMaskingKey, id, key_owners, key_values);
}

absl::StatusOr<SecretKey> ServerUnmaskingState::Reconstruct(SharedSecret kind,
                                                            uint32_t owner) const {
  const uint32_t t = config().threshold;
  const char* what = SecretName(kind);
  const size_t held = shares_->Count(kind, owner);
  if (held < t) {
    return absl::AbortedError(absl::StrCat("round ", config().round_id,
                                           " failed in unmasking: only ", held, " of ", t,
                                           " needed shares of client ", owner, "'s ", what,
                                           " arrived; retry the round with a new cohort"));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<ShamirShare> shares, shares_->Open(kind, owner));
  // The opened shares are secrets: wiped however this returns.
  struct WipeOnExit {
    std::vector<ShamirShare>& shares;
    ~WipeOnExit() { Wipe(absl::MakeSpan(shares)); }
  } wipe{shares};
  auto secret = ShamirReconstruct(shares, t);
  if (!secret.ok()) {
    return absl::DataLossError(absl::StrCat("shares of client ", owner, "'s ", what,
                                            " cannot be combined: ", secret.status().message()));
  }
  // ShamirReconstruct uses the first t shares only. With more than t, the last
  // t must give the same secret, or some holder sent a corrupted share (for a
  // self-mask seed nothing public could tell: the sum would be silently wrong).
  // With exactly t shares a corruption is caught only for masking keys,
  // against the advertised public key.
  if (shares.size() > t) {
    auto again = ShamirReconstruct(absl::MakeConstSpan(shares).subspan(shares.size() - t), t);
    if (!again.ok() || !ConstantTimeEquals(secret->span(), again->span())) {
      return absl::DataLossError(absl::StrCat(
          "shares of client ", owner, "'s ", what,
          " are inconsistent: a holder sent a corrupted share; the round is abandoned"));
    }
  }
  return secret;
}

absl::Status ServerUnmaskingState::CheckDecodedSum(absl::Span<const int64_t> quantized_sum,
                                                   size_t survivors) const {
  // Every honest contribution is clip(x) * w * scale and w * scale, rounded
  // up or down by one unit, with w in [min_weight, max_weight]
  // (secure_agg/fixed_point.h). A sum outside survivors times that range holds
  // a crafted vector; inside it a malicious client can still skew the sum
  // (nothing proves an input honest), but not past these bounds.
  const ServerConfig& c = config();
  const double s = static_cast<double>(survivors);
  const double weight_q = static_cast<double>(quantized_sum.back());
  const double weight_low = s * (c.min_weight * c.scale - 1);
  const double weight_high = s * (c.max_weight * c.scale + 1);
  if (weight_q < weight_low || weight_q > weight_high) {
    return absl::DataLossError(
        absl::StrCat("round ", c.round_id, " failed on decode: the total weight ",
                     weight_q / c.scale, " of ", survivors,
                     " survivors lies outside [survivors * min_weight, survivors * "
                     "max_weight] = [",
                     s * c.min_weight, ", ", s * c.max_weight,
                     "]: a client masked a crafted vector; the round is abandoned"));
  }
  const double coordinate_bound = s * (c.max_weight * c.clip_bound * c.scale + 1);
  for (size_t i = c.unchecked_prefix; i + 1 < quantized_sum.size(); ++i) {
    const double v = static_cast<double>(quantized_sum[i]);
    if (v < -coordinate_bound || v > coordinate_bound) {
      return absl::DataLossError(
          absl::StrCat("round ", c.round_id, " failed on decode: coordinate ", i, " of the sum is ",
                       v / c.scale, ", beyond the bound survivors * max_weight * clip_bound = ",
                       s * c.max_weight * c.clip_bound,
                       ": a client masked a crafted vector; the round is "
                       "abandoned"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerState::Transition> ServerUnmaskingState::Advance() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors());
  const std::set<uint32_t>& survivors = survivors_;  // U3: their inputs are in the sum
  std::vector<MaskTerm> terms;
  for (uint32_t u : survivors) {
    TACIT_ASSIGN_OR_RETURN(SecretKey seed, Reconstruct(SharedSecret::kSelfMaskSeed, u));
    terms.push_back({seed, -1});
  }
  for (uint32_t d : shared_) {
    if (survivors.count(d)) continue;
    std::vector<uint32_t> masked_with;
    for (uint32_t v : round_->graph.NeighborsOf(d)) {
      if (survivors.count(v)) masked_with.push_back(v);
    }
    if (masked_with.empty()) continue;
    TACIT_ASSIGN_OR_RETURN(SecretKey masking_key, Reconstruct(SharedSecret::kMaskingKey, d));
    TACIT_ASSIGN_OR_RETURN(Bytes public_key, X25519PublicFromPrivate(masking_key));
    // An honest key is clamped; a corrupted reconstruction that differs only in
    // the bits X25519 ignores would still match the public key, so check both.
    if (!IsClampedX25519PrivateKey(masking_key) ||
        !ConstantTimeEquals(public_key, AsBytes(keys_->at(d).masking_public_key()))) {
      return absl::DataLossError(
          absl::StrCat("reconstructed masking key of client ", d,
                       " does not match its advertised key: shares were corrupted"));
    }
    for (uint32_t v : masked_with) {
      TACIT_ASSIGN_OR_RETURN(SecretKey agreed,
                             X25519Agree(masking_key, AsBytes(keys_->at(v).masking_public_key())));
      TACIT_ASSIGN_OR_RETURN(SecretKey seed,
                             PairwiseMaskSeed(agreed, session_id_, config().round_id));
      // v added PairSign(v, d) * PRG(seed); remove it.
      terms.push_back({seed, -PairSign(v, d)});
    }
  }
  shares_->Clear();
  TACIT_RETURN_IF_ERROR(
      ApplyMasksParallel(terms, config().bits, absl::MakeSpan(sum_), config().unmask_threads));

  AggregationResult result;
  const size_t n = config().vector_length;
  result.quantized_sum.resize(n + 1);
  result.weighted_sum.resize(n);
  for (size_t i = 0; i <= n; ++i) result.quantized_sum[i] = FromModular(sum_[i], config().bits);
  std::vector<uint64_t>().swap(sum_);
  TACIT_RETURN_IF_ERROR(CheckDecodedSum(result.quantized_sum, survivors.size()));
  for (size_t i = 0; i < n; ++i) {
    result.weighted_sum[i] = result.quantized_sum[i] / config().scale;
  }
  result.total_weight = result.quantized_sum[n] / config().scale;
  result.survivor_ids.assign(survivors.begin(), survivors.end());
  Transition out;
  out.outcome.result = std::move(result);
  out.next = std::make_unique<ServerCompletedState>(round_);
  return out;
}

}  // namespace tacit::secagg
