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

void WipeSets(ReceivedShares& sets) {
  for (auto& [owner, shares] : sets) {
    for (ReceivedShare& s : shares) {
      Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(s.values.data()),
                             s.values.size() * sizeof(uint64_t)));
    }
  }
  sets.clear();
}

// The shares ShamirReconstruct takes, for the few it combines at once.
std::vector<ShamirShare> AsShamirShares(absl::Span<const ReceivedShare> received) {
  std::vector<ShamirShare> out(received.size());
  for (size_t i = 0; i < received.size(); ++i) {
    out[i].holder_id = received[i].holder_id;
    out[i].values.assign(received[i].values.begin(), received[i].values.end());
  }
  return out;
}

// Every share in `list` must be of a client in `asked`, once, with
// kShamirChunks field elements.
template <typename List>
absl::Status CheckShares(uint32_t id, const List& list, const std::vector<uint32_t>& asked) {
  std::set<uint32_t> seen;
  for (const auto& share : list) {
    if (!std::binary_search(asked.begin(), asked.end(), share.owner_id()) ||
        !seen.insert(share.owner_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("client ", id, " returned a share of ",
                                                     share.owner_id(),
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
    }
  }
  return absl::OkStatus();
}

// `holders`: how many clients can hold a share of one secret (the
// neighbourhood), so each owner's list is allocated once.
template <typename List>
void StoreShares(uint32_t id, const List& list, size_t holders, ReceivedShares& into) {
  for (const auto& share : list) {
    std::vector<ReceivedShare>& shares = into[share.owner_id()];
    if (shares.empty()) shares.reserve(holders);
    ReceivedShare& s = shares.emplace_back();
    s.holder_id = id;
    std::copy(share.values().begin(), share.values().end(), s.values.begin());
  }
}

}  // namespace

ServerUnmaskingState::~ServerUnmaskingState() {
  WipeSets(self_mask_shares_);
  WipeSets(masking_key_shares_);
}

absl::Status ServerUnmaskingState::HandlePhaseMessage(uint32_t id,
                                                      const v1::SecAggClientToServer& message) {
  const v1::SecAggUnmaskingResponse& m = message.unmasking_response();
  static const UnmaskingAsk kNothing;
  auto it = asked_.find(id);
  const UnmaskingAsk& ask = it == asked_.end() ? kNothing : it->second;
  TACIT_RETURN_IF_ERROR(CheckShares(id, m.self_mask_shares(), ask.survivors));
  TACIT_RETURN_IF_ERROR(CheckShares(id, m.masking_key_shares(), ask.dropped));
  const size_t holders =
      round_->graph.complete() ? round_->cohort.size() : round_->config.neighbors + 1;
  StoreShares(id, m.self_mask_shares(), holders, self_mask_shares_);
  StoreShares(id, m.masking_key_shares(), holders, masking_key_shares_);
  return absl::OkStatus();
}

absl::StatusOr<SecretKey> ServerUnmaskingState::Reconstruct(ReceivedShares& sets, uint32_t owner,
                                                            const char* what) const {
  const uint32_t t = config().threshold;
  const std::vector<ReceivedShare>& received = sets[owner];
  std::vector<ShamirShare> shares = AsShamirShares(received);
  // The copies hold secret shares too: wiped however this returns.
  struct WipeOnExit {
    std::vector<ShamirShare>& shares;
    ~WipeOnExit() { Wipe(absl::MakeSpan(shares)); }
  } wipe{shares};
  if (shares.size() < t) {
    return absl::AbortedError(absl::StrCat("round ", config().round_id,
                                           " failed in unmasking: only ", shares.size(), " of ", t,
                                           " needed shares of client ", owner, "'s ", what,
                                           " arrived; retry the round with a new cohort"));
  }
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
    TACIT_ASSIGN_OR_RETURN(SecretKey seed, Reconstruct(self_mask_shares_, u, "self mask"));
    terms.push_back({seed, -1});
  }
  for (uint32_t d : shared_) {
    if (survivors.count(d)) continue;
    std::vector<uint32_t> masked_with;
    for (uint32_t v : round_->graph.NeighborsOf(d)) {
      if (survivors.count(v)) masked_with.push_back(v);
    }
    if (masked_with.empty()) continue;
    TACIT_ASSIGN_OR_RETURN(SecretKey masking_key,
                           Reconstruct(masking_key_shares_, d, "masking key"));
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
  WipeSets(self_mask_shares_);
  WipeSets(masking_key_shares_);
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
