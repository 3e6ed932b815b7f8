#pragma once

// Helpers for the one-state tests: seeded randomness, hand-built round
// contexts and the messages a real peer or server would send. Everything is
// deterministic: a test can assert exact bytes.

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "secure_agg/bit_packing.h"
#include "secure_agg/client/client_state.h"
#include "secure_agg/crypto.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/masking.h"
#include "secure_agg/protocol.h"
#include "secure_agg/randomness.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg::testing {

// A seeded source; fails the test when it cannot be made.
inline std::shared_ptr<SeededRandomSourceForTesting> Seeded(uint64_t seed,
                                                            std::string_view label = "") {
  auto source = SeededRandomSourceForTesting::FromSeed(seed, label);
  EXPECT_TRUE(source.ok()) << source.status();
  return source.ok() ? *source : nullptr;
}

// A source that always fails, to show a failed draw aborts the step.
class FailingRandomSource final : public RandomSource {
 public:
  absl::Status Fill(absl::Span<uint8_t>) override {
    return absl::InternalError("test randomness source is exhausted");
  }
};

// Round parameters: complete graph over `cohort` clients, vector of `length`.
inline v1::SecAggRoundParameters Params(uint64_t round_id, uint32_t threshold, uint32_t cohort,
                                        uint64_t length) {
  v1::SecAggRoundParameters p;
  p.set_round_id(round_id);
  p.set_threshold(threshold);
  p.set_bits(32);
  p.set_clip_bound(1.0);
  p.set_scale(1024);
  p.set_max_weight(1.0);
  p.set_vector_length(length);
  p.set_cohort_size(cohort);
  p.set_neighbors(0);
  p.set_graph_seed(std::string(32, '\x07'));
  return p;
}

// One simulated participant's long-term round secrets, drawn from a seed.
struct Party {
  uint32_t id = 0;
  X25519KeyPair encryption;
  X25519KeyPair masking;
  SecretKey self_mask_seed;
  v1::SecAggPublicKeys PublicKeys() const {
    v1::SecAggPublicKeys k;
    k.set_client_id(id);
    k.set_encryption_public_key(ToString(encryption.public_key));
    k.set_masking_public_key(ToString(masking.public_key));
    return k;
  }
};

inline Party MakeParty(uint32_t id, uint64_t seed) {
  auto random = Seeded(seed, "party-" + std::to_string(id));
  Party p;
  p.id = id;
  p.encryption = *GenerateX25519KeyPair(*random);
  p.masking = *GenerateX25519KeyPair(*random);
  p.self_mask_seed = *DrawSecretKey(*random);
  return p;
}

// Parties 1..n.
inline std::map<uint32_t, Party> MakeParties(uint32_t n, uint64_t seed) {
  std::map<uint32_t, Party> parties;
  for (uint32_t id = 1; id <= n; ++id) parties.emplace(id, MakeParty(id, seed));
  return parties;
}

inline std::vector<v1::SecAggPublicKeys> SortedKeys(const std::map<uint32_t, Party>& parties) {
  std::vector<v1::SecAggPublicKeys> keys;
  for (const auto& [id, p] : parties) keys.push_back(p.PublicKeys());
  return keys;
}

// The context client `self` has after advertising, in a complete-graph round.
inline RoundContext ContextFor(const Party& self, const std::map<uint32_t, Party>& parties,
                               const v1::SecAggRoundParameters& params) {
  RoundContext ctx;
  ctx.id = self.id;
  ctx.params = params;
  ctx.encryption_keys = self.encryption;
  ctx.masking_keys = self.masking;
  ctx.self_mask_seed = self.self_mask_seed;
  for (const auto& [id, p] : parties) {
    if (id != self.id) ctx.graph_neighbors.insert(id);
  }
  return ctx;
}

// Adds what the client learns from the key broadcast: peers' keys and the
// session id.
inline void AddBroadcast(RoundContext& ctx, const std::map<uint32_t, Party>& parties) {
  for (const auto& [id, p] : parties) {
    if (id != ctx.id) ctx.peer_keys.emplace(id, p.PublicKeys());
  }
  ctx.session_id = *ComputeSessionId(ctx.params, SortedKeys(parties));
}

inline v1::SecAggEncryptedShare SealShare(const Party& from, const Party& to,
                                          const RoundContext& ctx, const ShamirShare& self_mask,
                                          const ShamirShare& masking_key, RandomSource& random) {
  SecretKey agreed = *X25519Agree(from.encryption.private_key, to.encryption.public_key);
  SecretKey key =
      *ShareEncryptionKey(agreed, ctx.session_id, ctx.params.round_id(), from.id, to.id);
  Bytes nonce(kGcmNonceBytes);
  EXPECT_TRUE(random.Fill(absl::MakeSpan(nonce)).ok());
  Bytes sealed =
      *AesGcmSeal(key, nonce, EncodeSharePlaintext(from.id, to.id, self_mask, masking_key),
                  ShareAssociatedData(ctx.session_id, ctx.params.round_id(), from.id, to.id));
  v1::SecAggEncryptedShare share;
  share.set_sender_id(from.id);
  share.set_recipient_id(to.id);
  share.set_nonce(ToString(nonce));
  share.set_ciphertext(ToString(sealed));
  return share;
}

// Every party's Shamir shares of its two secrets among all parties.
struct PartyShares {
  std::map<uint32_t, ShamirShare> self_mask;    // by holder
  std::map<uint32_t, ShamirShare> masking_key;  // by holder
};
inline std::map<uint32_t, PartyShares> SplitAll(const std::map<uint32_t, Party>& parties,
                                                uint32_t threshold, RandomSource& random) {
  std::vector<uint32_t> holders;
  for (const auto& [id, p] : parties) holders.push_back(id);
  std::map<uint32_t, PartyShares> out;
  for (const auto& [id, p] : parties) {
    auto a = *ShamirSplit(p.self_mask_seed, threshold, holders, random);
    auto b = *ShamirSplit(p.masking.private_key, threshold, holders, random);
    for (size_t i = 0; i < holders.size(); ++i) {
      out[id].self_mask[holders[i]] = a[i];
      out[id].masking_key[holders[i]] = b[i];
    }
  }
  return out;
}

// What an attacker holding every mask term of a masked vector (packed at
// `bits` bits per element) recovers: the signed fixed-point input, weight last.
inline std::vector<int64_t> StripMasks(const std::string& packed, size_t elements,
                                       const std::vector<MaskTerm>& terms, uint32_t bits) {
  absl::StatusOr<std::vector<uint64_t>> unpacked = UnpackResidues(AsBytes(packed), elements, bits);
  EXPECT_TRUE(unpacked.ok()) << unpacked.status();
  if (!unpacked.ok()) return {};
  std::vector<uint64_t> values = *std::move(unpacked);
  EXPECT_TRUE(ApplyMasks(terms, bits, 0, absl::MakeSpan(values)).ok());
  std::vector<int64_t> out;
  for (uint64_t v : values) out.push_back(FromModular(v, bits));
  return out;
}

inline v1::SecAggServerToClient ServerMessage(const RoundContext& ctx) {
  v1::SecAggServerToClient m;
  m.set_round_id(ctx.params.round_id());
  m.set_session_id(ToString(ctx.session_id));
  return m;
}

}  // namespace tacit::secagg::testing
