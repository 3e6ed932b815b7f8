// The key-swap attack (docs/secure_aggregation.md, "Identity signatures"): the
// coordinator relays advertised keys, so it can show one victim a broadcast in
// which every neighbour's keys are its own. The session id the victim checks
// only hashes what the victim sees, so it matches. The victim then encrypts
// every share to the coordinator and masks only with it: the coordinator reads
// the self-mask seed and strips every mask. Drives one real SecAggClient.
//
// Without identity signatures the attack recovers the victim's exact input;
// with them the victim drops every swapped neighbour and refuses the round
// before sending a single share.

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/identity.h"
#include "secure_agg/masking.h"
#include "state_test_support.h"

namespace tacit::secagg {
namespace {

using testing::MakeParty;
using testing::Party;

constexpr uint32_t kVictim = 1;

// How the coordinator dresses the keys it substitutes.
enum class Disguise {
  kUnsigned,             // no identity, no signature
  kReplayedSignature,    // the real neighbour's identity and signature (over its real keys)
  kCoordinatorIdentity,  // signed by a key of the coordinator's, not in the fleet
};

struct Outcome {
  bool recovered = false;
  std::vector<int64_t> recovered_input;
  std::vector<int64_t> victim_quantized;
  absl::Status refusal;  // the victim's refusal, when the attack failed
};

struct Shape {
  uint32_t n;       // cohort size, complete graph
  uint32_t t;       // threshold
  uint64_t length;  // vector length
};

Outcome RunKeySwap(const Shape& shape, bool victim_verifies, Disguise disguise, uint64_t seed) {
  Outcome out;
  const uint64_t round = 900 + seed;
  v1::SecAggRoundParameters params = testing::Params(round, shape.t, shape.n, shape.length);
  // The real fleet: every device has an Ed25519 identity in the verifier.
  auto fleet = std::make_shared<KnownKeysVerifier>();
  std::map<uint32_t, std::shared_ptr<const Signer>> signers;
  for (uint32_t id = 1; id <= shape.n; ++id) {
    std::shared_ptr<const Signer> signer = *Ed25519Signer::Generate();
    fleet->Register(signer->identity());
    signers.emplace(id, signer);
  }
  ClientConfig config;
  config.client_id = kVictim;
  config.random = testing::Seeded(seed, "victim");
  config.signer = signers.at(kVictim);
  if (victim_verifies) config.verifier = fleet;
  config.on_quantized_input = [&out](const std::vector<int64_t>& q) { out.victim_quantized = q; };
  std::mt19937_64 rng(seed);
  std::vector<float> input(shape.length);
  for (float& v : input) v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000.0f;
  auto victim = *SecAggClient::Create(config, input, 1.0);

  v1::SecAggServerToClient start;
  start.set_round_id(round);
  *start.mutable_round_start()->mutable_parameters() = params;
  for (uint32_t n = 2; n <= shape.n; ++n)
    start.mutable_round_start()->mutable_parameters()->add_neighbor_ids(n);
  auto advertised = victim->HandleServerMessage(start);
  EXPECT_TRUE(advertised.ok()) << advertised.status();

  // The coordinator's substitutes for neighbours 2..n, and what it dresses
  // them in.
  std::map<uint32_t, Party> fakes;
  std::vector<v1::SecAggPublicKeys> sorted;
  v1::SecAggPublicKeys own;
  own.set_client_id(kVictim);
  own.set_encryption_public_key(advertised->advertise_keys().encryption_public_key());
  own.set_masking_public_key(advertised->advertise_keys().masking_public_key());
  own.set_identity(advertised->advertise_keys().identity());
  own.set_signature(advertised->advertise_keys().signature());
  sorted.push_back(own);
  for (uint32_t id = 2; id <= shape.n; ++id) {
    Party fake = MakeParty(id, seed + 1000);
    v1::SecAggPublicKeys k = fake.PublicKeys();
    switch (disguise) {
      case Disguise::kUnsigned:
        break;
      case Disguise::kReplayedSignature: {
        const Party real = MakeParty(id, seed);
        k.set_identity(ToString(signers.at(id)->identity()));
        k.set_signature(ToString(*signers.at(id)->Sign(AdvertisementSigningInput(
            params, id, ToString(real.encryption.public_key), ToString(real.masking.public_key)))));
        break;
      }
      case Disguise::kCoordinatorIdentity: {
        // One key per seat: a shared identity would be refused on its own.
        std::shared_ptr<const Signer> coordinator_key = *Ed25519Signer::Generate();
        k.set_identity(ToString(coordinator_key->identity()));
        k.set_signature(ToString(*coordinator_key->Sign(AdvertisementSigningInput(
            params, id, k.encryption_public_key(), k.masking_public_key()))));
        break;
      }
    }
    sorted.push_back(k);
    fakes.emplace(id, std::move(fake));
  }
  const Bytes session_id = *ComputeSessionId(params, sorted);
  v1::SecAggServerToClient broadcast;
  broadcast.set_round_id(round);
  broadcast.set_session_id(ToString(session_id));
  for (const auto& k : sorted) *broadcast.mutable_keys_broadcast()->add_keys() = k;
  auto shared = victim->HandleServerMessage(broadcast);
  if (!shared.ok()) {
    out.refusal = shared.status();
    return out;
  }
  // Every share the victim sent is to a key the coordinator holds.
  std::vector<ShamirShare> self_mask;
  for (const auto& share : shared->share_keys().shares()) {
    const Party& to = fakes.at(share.recipient_id());
    SecretKey agreed =
        *X25519Agree(to.encryption.private_key, AsBytes(own.encryption_public_key()));
    SecretKey key = *ShareEncryptionKey(agreed, session_id, round, kVictim, to.id);
    Bytes plain = *AesGcmOpen(key, AsBytes(share.nonce()), AsBytes(share.ciphertext()),
                              ShareAssociatedData(session_id, round, kVictim, to.id));
    self_mask.push_back(DecodeSharePlaintext(plain, kVictim, to.id)->self_mask);
  }
  // Deliver shares from the fakes (their own secrets) so the victim masks.
  RoundContext ctx;
  ctx.params = params;
  ctx.session_id = session_id;
  auto share_random = testing::Seeded(seed, "fake shares");
  std::vector<uint32_t> holders;
  for (uint32_t id = 1; id <= shape.n; ++id) holders.push_back(id);
  v1::SecAggServerToClient delivery = testing::ServerMessage(ctx);
  for (const auto& [id, fake] : fakes) {
    auto a = *ShamirSplit(fake.self_mask_seed, shape.t, holders, *share_random);
    auto b = *ShamirSplit(fake.masking.private_key, shape.t, holders, *share_random);
    SecretKey agreed =
        *X25519Agree(fake.encryption.private_key, AsBytes(own.encryption_public_key()));
    SecretKey key = *ShareEncryptionKey(agreed, session_id, round, id, kVictim);
    Bytes nonce(kGcmNonceBytes, static_cast<uint8_t>(id));
    Bytes sealed = *AesGcmSeal(key, nonce, EncodeSharePlaintext(id, kVictim, a[0], b[0]),
                               ShareAssociatedData(session_id, round, id, kVictim));
    auto* s = delivery.mutable_shares_delivery()->add_shares();
    s->set_sender_id(id);
    s->set_recipient_id(kVictim);
    s->set_nonce(ToString(nonce));
    s->set_ciphertext(ToString(sealed));
  }
  auto masked = victim->HandleServerMessage(delivery);
  if (!masked.ok()) {
    out.refusal = masked.status();
    return out;
  }
  // Strip the self mask (from t shares) and every pairwise mask (the
  // coordinator holds the other end of each).
  self_mask.resize(shape.t);
  std::vector<MaskTerm> terms{{*ShamirReconstruct(self_mask, shape.t), -1}};
  for (const auto& [id, fake] : fakes) {
    SecretKey agreed = *X25519Agree(fake.masking.private_key, AsBytes(own.masking_public_key()));
    terms.push_back({*PairwiseMaskSeed(agreed, session_id, round), -PairSign(kVictim, id)});
  }
  out.recovered_input =
      testing::StripMasks(masked->masked_input().packed(), shape.length + 1, terms, params.bits());
  out.recovered = true;
  return out;
}

Shape RandomShape(std::mt19937& rng) {
  Shape s;
  s.n = 4 + rng() % 8;      // 4..11
  s.t = (2 * s.n) / 3 + 1;  // above two thirds of the holders
  s.length = 1 + rng() % 40;
  return s;
}

// The finding, against clients that do not verify: exact recovery, whatever
// the keys are dressed in.
TEST(KeySwapAttack, RecoversTheVictimsExactInputWithoutVerification) {
  std::mt19937 rng(20261130);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const Shape shape = RandomShape(rng);
    for (Disguise d : {Disguise::kUnsigned, Disguise::kReplayedSignature}) {
      Outcome o = RunKeySwap(shape, /*victim_verifies=*/false, d, seed);
      ASSERT_TRUE(o.recovered) << o.refusal;
      EXPECT_EQ(o.recovered_input, o.victim_quantized);
    }
  }
}

// A verifying victim drops every swapped neighbour, finds fewer than t share
// holders and refuses before encrypting a single share.
TEST(KeySwapAttack, VerifyingVictimRefusesBeforeSharing) {
  std::mt19937 rng(20261201);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const Shape shape = RandomShape(rng);
    for (Disguise d :
         {Disguise::kUnsigned, Disguise::kReplayedSignature, Disguise::kCoordinatorIdentity}) {
      Outcome o = RunKeySwap(shape, /*victim_verifies=*/true, d, seed);
      EXPECT_FALSE(o.recovered) << "n " << shape.n << " disguise " << static_cast<int>(d);
      EXPECT_TRUE(absl::IsAborted(o.refusal)) << o.refusal;
      EXPECT_TRUE(o.victim_quantized.empty());  // it never even quantized its input
    }
  }
}

}  // namespace
}  // namespace tacit::secagg
