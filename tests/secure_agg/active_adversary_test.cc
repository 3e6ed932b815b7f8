// Attacks by an active coordinator or a malicious client, each driving real
// SecAggClient objects (docs/secure_aggregation.md, "Active adversaries"):
//   1. split view: the coordinator (which runs the CA and can enrol a device of
//      its own) tells some of a target's share holders that the target
//      survived and others that it dropped, and strips every mask from the
//      target's input;
//   4. a client masks a crafted vector whose weight element makes the total
//      weight tiny, so the mean update is far outside the clip bound;
//   5. a client advertises a duplicate or low-order key to abort the round.

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/identity.h"
#include "secure_agg/in_process_delivery.h"
#include "secure_agg/masking.h"
#include "secure_agg/round_driver.h"
#include "state_test_support.h"

namespace tacit::secagg {
namespace {

using testing::MakeParty;
using testing::Party;

// ---------------------------------------------------------------------------
// 1. Split view of one target.

constexpr uint32_t kTarget = 1;
constexpr uint64_t kRound = 77;
constexpr uint64_t kLength = 8;

// A complete-graph round of `honest` real clients (ids 1..honest, the target
// is 1) and `sybils` devices the coordinator enrolled itself (the ids after),
// threshold `t`.
struct SplitShape {
  uint32_t honest = 4;
  uint32_t sybils = 1;
  uint32_t t = 3;
  uint32_t holders() const { return honest + sybils; }
  // The split works when the target's side and the other side can each
  // gather t shares: (t - z) honest holders on each side, so 2t <= h + z.
  bool SplitReachesThresholdTwice() const { return 2 * t <= holders() + sybils; }
};

struct SplitViewOutcome {
  bool recovered = false;                 // both secrets of the target reconstructed
  std::vector<int64_t> recovered_input;   // the target's unmasked quantized input
  std::vector<int64_t> target_quantized;  // what the target really contributed
  std::string stopped_by;                 // the first refusal, when the attack failed
};

// Reads the replies of the honest clients; the first error stops the attack
// (a refusing client reveals nothing more).
struct Honest {
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
  std::string refusal;
  std::map<uint32_t, v1::SecAggClientToServer> Send(
      const std::map<uint32_t, v1::SecAggServerToClient>& messages) {
    std::map<uint32_t, v1::SecAggClientToServer> replies;
    for (const auto& [id, message] : messages) {
      auto reply = clients.at(id)->HandleServerMessage(message);
      if (!reply.ok()) {
        if (refusal.empty()) refusal = absl::StrCat("client ", id, ": ", reply.status().ToString());
        continue;
      }
      replies.emplace(id, *std::move(reply));
    }
    return replies;
  }
};

v1::SecAggServerToClient Envelope(const Bytes& session_id) {
  v1::SecAggServerToClient m;
  m.set_round_id(kRound);
  m.set_session_id(ToString(session_id));
  return m;
}

// The malicious coordinator's script. It enrols the Sybils itself (it runs
// the CA), so they advertise signed keys, share keys with every honest client,
// send masked inputs and sign whatever survivor list suits it. Honest clients
// 1..(t - z) are shown, like the target, a survivor list with the target on
// it; the other honest clients a list without it (the target "dropped"). Each
// honest client signs the list it was shown, and is sent the signatures of the
// honest clients shown the same list and of every Sybil. `policy` is the
// honest clients' configuration; every client signs and verifies identities.
SplitViewOutcome RunSplitView(const SplitShape& shape, const ClientConfig& policy, uint64_t seed) {
  SplitViewOutcome out;
  Honest honest;
  std::mt19937_64 rng(seed);
  auto fleet = std::make_shared<KnownKeysVerifier>();
  std::map<uint32_t, std::shared_ptr<const Signer>> signers;
  for (uint32_t id = 1; id <= shape.holders(); ++id) {
    std::shared_ptr<const Signer> signer = *Ed25519Signer::Generate();
    fleet->Register(signer->identity());
    signers.emplace(id, signer);
  }
  for (uint32_t id = 1; id <= shape.honest; ++id) {
    ClientConfig config = policy;
    config.client_id = id;
    config.random = testing::Seeded(seed + id, "honest");
    config.signer = signers.at(id);
    config.verifier = fleet;
    if (id == kTarget) {
      config.on_quantized_input = [&out](const std::vector<int64_t>& q) {
        out.target_quantized = q;
      };
    }
    std::vector<float> input(kLength);
    for (float& v : input) v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000.0f;
    auto client = SecAggClient::Create(config, input, 1.0);
    EXPECT_TRUE(client.ok()) << client.status();
    honest.clients.emplace(id, *std::move(client));
  }
  std::map<uint32_t, Party> sybils;
  for (uint32_t id = shape.honest + 1; id <= shape.holders(); ++id) {
    sybils.emplace(id, MakeParty(id, seed));
  }
  const v1::SecAggRoundParameters params =
      testing::Params(kRound, shape.t, shape.holders(), kLength);

  // Round start, complete graph.
  std::map<uint32_t, v1::SecAggServerToClient> start;
  for (uint32_t id = 1; id <= shape.honest; ++id) {
    v1::SecAggServerToClient m;
    m.set_round_id(kRound);
    *m.mutable_round_start()->mutable_parameters() = params;
    for (uint32_t n = 1; n <= shape.holders(); ++n) {
      if (n != id) m.mutable_round_start()->mutable_parameters()->add_neighbor_ids(n);
    }
    start.emplace(id, std::move(m));
  }
  auto advertised = honest.Send(start);
  std::map<uint32_t, v1::SecAggPublicKeys> keys;
  for (const auto& [id, reply] : advertised) {
    v1::SecAggPublicKeys k;
    k.set_client_id(id);
    k.set_encryption_public_key(reply.advertise_keys().encryption_public_key());
    k.set_masking_public_key(reply.advertise_keys().masking_public_key());
    k.set_identity(reply.advertise_keys().identity());
    k.set_signature(reply.advertise_keys().signature());
    keys.emplace(id, k);
  }
  for (const auto& [id, party] : sybils) {
    v1::SecAggPublicKeys k = party.PublicKeys();
    k.set_identity(ToString(signers.at(id)->identity()));
    k.set_signature(ToString(*signers.at(id)->Sign(
        AdvertisementSigningInput(params, id, k.encryption_public_key(), k.masking_public_key()))));
    keys.emplace(id, k);
  }
  std::vector<v1::SecAggPublicKeys> sorted;
  for (const auto& [id, k] : keys) sorted.push_back(k);
  const Bytes session_id = *ComputeSessionId(params, sorted);

  // Keys broadcast: everyone sees every key.
  std::map<uint32_t, v1::SecAggServerToClient> broadcast;
  for (uint32_t id = 1; id <= shape.honest; ++id) {
    v1::SecAggServerToClient m = Envelope(session_id);
    for (const auto& k : sorted) *m.mutable_keys_broadcast()->add_keys() = k;
    broadcast.emplace(id, std::move(m));
  }
  auto shared = honest.Send(broadcast);
  if (shared.size() < shape.honest) {
    out.stopped_by = honest.refusal;
    return out;
  }
  // Deliveries among the honest clients, plus shares the Sybils seal to each
  // of them; the Sybils open what was sent to them.
  std::map<uint32_t, v1::SecAggServerToClient> deliveries;
  for (uint32_t id = 1; id <= shape.honest; ++id) deliveries.emplace(id, Envelope(session_id));
  std::vector<ShamirShare> self_mask, masking_key;  // of the target
  for (const auto& [from, reply] : shared) {
    for (const auto& share : reply.share_keys().shares()) {
      auto sybil = sybils.find(share.recipient_id());
      if (sybil == sybils.end()) {
        *deliveries.at(share.recipient_id()).mutable_shares_delivery()->add_shares() = share;
        continue;
      }
      if (from != kTarget) continue;
      const uint32_t to = sybil->first;
      SecretKey agreed = *X25519Agree(sybil->second.encryption.private_key,
                                      AsBytes(keys.at(from).encryption_public_key()));
      SecretKey key = *ShareEncryptionKey(agreed, session_id, kRound, from, to);
      Bytes plain = *AesGcmOpen(key, AsBytes(share.nonce()), AsBytes(share.ciphertext()),
                                ShareAssociatedData(session_id, kRound, from, to));
      DecodedShares opened = *DecodeSharePlaintext(plain, from, to);
      self_mask.push_back(opened.self_mask);
      masking_key.push_back(opened.masking_key);
    }
  }
  if (!sybils.empty()) {
    std::map<uint32_t, Party> everyone = sybils;
    for (uint32_t id = 1; id <= shape.honest; ++id) everyone.emplace(id, MakeParty(id, seed));
    auto split_random = testing::Seeded(seed, "sybil-shares");
    const auto sybil_shares = testing::SplitAll(everyone, shape.t, *split_random);
    RoundContext sealing;
    sealing.params = params;
    sealing.session_id = session_id;
    for (const auto& [id, party] : sybils) {
      for (uint32_t to = 1; to <= shape.honest; ++to) {
        Party recipient;
        recipient.id = to;
        const auto public_key = AsBytes(keys.at(to).encryption_public_key());
        recipient.encryption.public_key = Bytes(public_key.begin(), public_key.end());
        *deliveries.at(to).mutable_shares_delivery()->add_shares() =
            testing::SealShare(party, recipient, sealing, sybil_shares.at(id).self_mask.at(to),
                               sybil_shares.at(id).masking_key.at(to), *split_random);
      }
    }
  }
  auto masked = honest.Send(deliveries);
  if (masked.size() < shape.honest) {
    out.stopped_by = honest.refusal;
    return out;
  }
  // The split: 1..(t - z) are shown the target on the survivor list, the rest
  // a list without it (at least one honest client on each side).
  const uint32_t survived_side = std::clamp<uint32_t>(
      shape.t > shape.sybils ? shape.t - shape.sybils : 1, 1, shape.honest - 1);
  auto told_dropped = [&](uint32_t id) { return id > survived_side; };
  std::vector<uint32_t> with_target, without_target;
  for (uint32_t id = 1; id <= shape.holders(); ++id) {
    with_target.push_back(id);
    if (id != kTarget) without_target.push_back(id);
  }
  std::map<uint32_t, v1::SecAggServerToClient> checks;
  for (uint32_t id = 1; id <= shape.honest; ++id) {
    v1::SecAggServerToClient m = Envelope(session_id);
    for (uint32_t s : told_dropped(id) ? without_target : with_target) {
      m.mutable_consistency_check()->add_survivor_ids(s);
    }
    checks.emplace(id, std::move(m));
  }
  auto signed_lists = honest.Send(checks);
  if (signed_lists.size() < shape.honest) {
    out.stopped_by = honest.refusal;
    return out;
  }
  std::map<uint32_t, v1::SecAggServerToClient> requests;
  for (uint32_t id = 1; id <= shape.honest; ++id) {
    const std::vector<uint32_t>& list = told_dropped(id) ? without_target : with_target;
    v1::SecAggServerToClient m = Envelope(session_id);
    auto* request = m.mutable_unmasking_request();
    for (uint32_t s : list) request->add_survivor_ids(s);
    if (told_dropped(id)) request->add_dropped_ids(kTarget);
    for (uint32_t other = 1; other <= shape.holders(); ++other) {
      if (other == id) continue;
      auto* forwarded = request->add_survivor_signatures();
      forwarded->set_client_id(other);
      if (other > shape.honest) {  // a Sybil signs any list
        forwarded->set_signature(
            ToString(*signers.at(other)->Sign(SurvivorListSigningInput(session_id, kRound, list))));
      } else if (told_dropped(other) == told_dropped(id)) {
        forwarded->set_signature(signed_lists.at(other).consistency_response().signature());
      } else {
        request->mutable_survivor_signatures()->RemoveLast();  // signed the other list
      }
    }
    requests.emplace(id, std::move(m));
  }
  auto responses = honest.Send(requests);
  for (const auto& [holder, reply] : responses) {
    for (const auto& s : reply.unmasking_response().self_mask_shares()) {
      if (s.owner_id() == kTarget)
        self_mask.push_back({holder, {s.values().begin(), s.values().end()}});
    }
    for (const auto& s : reply.unmasking_response().masking_key_shares()) {
      if (s.owner_id() == kTarget) {
        masking_key.push_back({holder, {s.values().begin(), s.values().end()}});
      }
    }
  }
  if (self_mask.size() < shape.t || masking_key.size() < shape.t) {
    out.stopped_by = honest.refusal.empty() ? "too few shares" : honest.refusal;
    return out;
  }
  SecretKey seed_secret = *ShamirReconstruct(self_mask, shape.t);
  SecretKey masking_private = *ShamirReconstruct(masking_key, shape.t);
  // Strip the self mask and the pairwise masks with every neighbour that
  // shared with the target (the honest ones and the Sybils) from its vector.
  std::vector<MaskTerm> terms{{seed_secret, -1}};
  for (uint32_t peer = 2; peer <= shape.holders(); ++peer) {
    SecretKey agreed = *X25519Agree(masking_private, AsBytes(keys.at(peer).masking_public_key()));
    terms.push_back({*PairwiseMaskSeed(agreed, session_id, kRound), -PairSign(kTarget, peer)});
  }
  out.recovered_input = testing::StripMasks(masked.at(kTarget).masked_input().packed(), kLength + 1,
                                            terms, params.bits());
  out.recovered = true;
  return out;
}

// The finding: complete graph of 5, t = 3, one device of the coordinator's.
// Against clients that only ask for a strict majority of holders (the policy
// before active security) it recovers the target's exact input, so the
// script is a real attack and the test below can fail.
TEST(SplitViewAttack, RecoversTheTargetsExactInputFromMajorityThresholdClients) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    ClientConfig lax;
    lax.min_threshold_fraction = 0.5;
    SplitViewOutcome outcome = RunSplitView({4, 1, 3}, lax, seed);
    ASSERT_TRUE(outcome.recovered) << outcome.stopped_by;
    EXPECT_EQ(outcome.recovered_input, outcome.target_quantized);
  }
}

// Clients with the default policy refuse that round before sharing a secret:
// t must exceed two thirds of the share holders.
TEST(SplitViewAttack, DefaultClientsRevealNothingOfTheTarget) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SplitViewOutcome outcome = RunSplitView({4, 1, 3}, ClientConfig{}, seed);
    EXPECT_FALSE(outcome.recovered) << "seed " << seed;
    EXPECT_NE(outcome.stopped_by.find("threshold"), std::string::npos) << outcome.stopped_by;
  }
}

// Random cohorts, Sybil counts and thresholds: against clients that accept
// any threshold the split recovers the target exactly when 2t <= h + z; with
// the default policy it never does while the Sybils are fewer than a third
// of the holders (the bound the policy is for).
TEST(SplitViewAttack, SucceedsExactlyWhenTheBoundAllowsAndNeverAgainstTheDefaultPolicy) {
  std::mt19937 rng(20261130);
  int recovered_lax = 0, refused_default = 0;
  for (int trial = 0; trial < 40; ++trial) {
    SplitShape shape;
    shape.honest = 3 + rng() % 6;  // 3..8
    shape.sybils = rng() % 4;      // 0..3
    // t <= honest - 1: the side told the target dropped lists the other
    // honest clients as survivors, at least t of them.
    shape.t = 2 + rng() % (shape.honest - 2);
    const uint64_t seed = 100 + trial;
    ClientConfig lax;
    lax.min_threshold_fraction = 0;
    SplitViewOutcome outcome = RunSplitView(shape, lax, seed);
    const std::string where = absl::StrCat("honest ", shape.honest, " sybils ", shape.sybils, " t ",
                                           shape.t, ": ", outcome.stopped_by);
    EXPECT_EQ(outcome.recovered, shape.SplitReachesThresholdTwice()) << where;
    if (outcome.recovered) {
      ++recovered_lax;
      EXPECT_EQ(outcome.recovered_input, outcome.target_quantized) << where;
    }
    if (3 * shape.sybils < shape.holders()) {
      SplitViewOutcome strict = RunSplitView(shape, ClientConfig{}, seed);
      EXPECT_FALSE(strict.recovered) << where;
      refused_default += strict.recovered ? 0 : 1;
    }
  }
  // The sample covers both outcomes.
  EXPECT_GT(recovered_lax, 0);
  EXPECT_GT(refused_default, 0);
}

// ---------------------------------------------------------------------------
// 4 and 5: one malicious client in a round driven by RoundDriver.

// Lets a test rewrite one client's replies before the server sees them. The
// server refusing the tampering client's reply is not a transport failure:
// that client is simply dropped for not answering, as over gRPC.
class TamperingDelivery : public Delivery {
 public:
  using Tamper = std::function<void(Phase, uint32_t, v1::SecAggClientToServer&)>;
  TamperingDelivery(InProcessDelivery& inner, uint32_t tamperer, Tamper tamper)
      : inner_(inner), tamperer_(tamperer), tamper_(std::move(tamper)) {}
  absl::Status Deliver(Phase phase, const ServerMessages& messages,
                       const ReplySink& reply) override {
    return inner_.Deliver(phase, messages,
                          [&](uint32_t id, const v1::SecAggClientToServer& message) {
                            v1::SecAggClientToServer copy = message;
                            tamper_(phase, id, copy);
                            absl::Status accepted = reply(id, copy);
                            if (!accepted.ok() && id == tamperer_) {
                              refusals_.push_back(accepted);
                              return absl::OkStatus();
                            }
                            return accepted;
                          });
  }
  const std::vector<absl::Status>& refusals() const { return refusals_; }

 private:
  InProcessDelivery& inner_;
  uint32_t tamperer_;
  Tamper tamper_;
  std::vector<absl::Status> refusals_;
};

struct SmallRound {
  ServerConfig config;
  // What each client contributed (shared: the clients' callbacks write it).
  std::shared_ptr<std::map<uint32_t, std::vector<int64_t>>> quantized =
      std::make_shared<std::map<uint32_t, std::vector<int64_t>>>();
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
};

// `signed_round`: every client signs with an Ed25519 identity of one
// simulated fleet, and the server and clients verify (secure_agg/identity.h).
SmallRound MakeSmallRound(uint32_t n, uint64_t seed, bool signed_round = false) {
  SmallRound round;
  std::shared_ptr<KnownKeysVerifier> fleet;
  if (signed_round) {
    fleet = std::make_shared<KnownKeysVerifier>();
    round.config.verifier = fleet;
  }
  std::mt19937_64 rng(seed);
  ServerConfig& cfg = round.config;
  cfg.round_id = seed;
  for (uint32_t id = 1; id <= n; ++id) cfg.cohort_ids.push_back(id * 10);
  cfg.threshold = 2 * n / 3 + 1;
  cfg.bits = 32;
  cfg.clip_bound = 1.0;
  cfg.max_weight = 1.0;
  cfg.min_weight = 1.0;  // uniform weighting: every weight is exactly 1
  cfg.vector_length = 16 + rng() % 64;
  cfg.scale = *LargestSafeScale(cfg.bits, cfg.clip_bound, cfg.max_weight, n);
  cfg.random = testing::Seeded(seed, "server");
  for (uint32_t id : cfg.cohort_ids) {
    ClientConfig cc;
    cc.client_id = id;
    cc.random = testing::Seeded(seed + id, "client");
    if (fleet) {
      std::shared_ptr<const Signer> signer = *Ed25519Signer::Generate();
      fleet->Register(signer->identity());
      cc.signer = signer;
      cc.verifier = fleet;
    }
    cc.on_quantized_input = [quantized = round.quantized, id](const std::vector<int64_t>& q) {
      (*quantized)[id] = q;
    };
    std::vector<float> input(cfg.vector_length);
    for (float& v : input) v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000.0f;
    round.clients.emplace(id, *SecAggClient::Create(cc, input, 1.0));
  }
  return round;
}

// The exact fixed-point sum of every client's contribution but `excluded`'s.
std::vector<int64_t> SumWithout(const SmallRound& round, uint32_t excluded) {
  std::vector<int64_t> sum(round.config.vector_length + 1, 0);
  for (const auto& [id, q] : *round.quantized) {
    if (id == excluded) continue;
    for (size_t i = 0; i < q.size(); ++i) sum[i] += q[i];
  }
  return sum;
}

// Replaces a masked vector y = q + masks by y - q + crafted: the client masks
// `crafted` instead of its honest quantized input q.
void SubstituteInput(v1::SecAggClientToServer& message, const std::vector<int64_t>& honest,
                     const std::vector<int64_t>& crafted, uint32_t bits) {
  std::string* packed = message.mutable_masked_input()->mutable_packed();
  auto words = UnpackResidues(AsBytes(*packed), honest.size(), bits);
  ASSERT_TRUE(words.ok()) << words.status();
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  for (size_t i = 0; i < honest.size(); ++i) {
    (*words)[i] =
        ((*words)[i] - static_cast<uint64_t>(honest[i]) + static_cast<uint64_t>(crafted[i])) & mask;
  }
  auto repacked = PackResidues(*words, bits);
  ASSERT_TRUE(repacked.ok()) << repacked.status();
  *packed = ToString(*repacked);
}

struct Crafted {
  double total_weight;  // what the decoded total weight becomes
  double sum_value;     // what every decoded coordinate of the sum becomes
  const char* bound;    // the bound the server must name
};

TEST(MaliciousInput, SumOutsideTheRoundsBoundsFailsTheRound) {
  // The finding: total weight 0.001 and mean -7500 with clip 1; then the same
  // weight with coordinates inside the clip bound, which only the weight bound
  // stops; then coordinates past the bound with an honest total weight.
  const Crafted cases[] = {
      {0.001, -7.5, "total weight"}, {0.001, -0.5, "total weight"}, {5.0, -40.0, "coordinate"}};
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    for (const Crafted& c : cases) {
      SmallRound round = MakeSmallRound(5, seed);
      const uint32_t evil = round.config.cohort_ids[seed % 5];
      const double scale = round.config.scale;
      auto driver = RoundDriver::Create(round.config);
      ASSERT_TRUE(driver.ok()) << driver.status();
      InProcessDelivery inner(std::move(round.clients), {});
      TamperingDelivery delivery(
          inner, evil, [&](Phase phase, uint32_t id, v1::SecAggClientToServer& message) {
            if (phase != Phase::kMaskedInput || id != evil) return;
            // Sum of everyone else's contribution, so the crafted one sets the total.
            std::vector<int64_t> others(round.config.vector_length + 1, 0);
            for (const auto& [other, q] : *round.quantized) {
              if (other == evil) continue;
              for (size_t i = 0; i < q.size(); ++i) others[i] += q[i];
            }
            std::vector<int64_t> crafted(others.size());
            for (size_t i = 0; i + 1 < crafted.size(); ++i) {
              crafted[i] = std::llround(c.sum_value * scale) - others[i];
            }
            crafted.back() = std::llround(c.total_weight * scale) - others.back();
            SubstituteInput(message, round.quantized->at(evil), crafted, round.config.bits);
          });
      auto result = RunRound(**driver, delivery);
      ASSERT_FALSE(result.ok()) << "the crafted sum was accepted: total weight "
                                << result->total_weight << ", first mean "
                                << result->weighted_sum[0] / result->total_weight;
      EXPECT_TRUE(absl::IsDataLoss(result.status())) << result.status();
      EXPECT_NE(result.status().message().find(c.bound), std::string::npos) << result.status();
    }
  }
}

// ---------------------------------------------------------------------------
// 5. Bad advertised keys drop the client that sent them, not the round.

enum class BadKey { kEncryptionAsMasking, kCopiesAnotherClient, kAllZero, kSmallOrder };

TEST(BadAdvertisedKeys, DropTheAdvertiserAndTheRoundCompletes) {
  // A point of order 8 on Curve25519 (RFC 7748 / libsodium's blocklist).
  const std::string small_order =
      "\xe0\xeb\x7a\x7c\x3b\x41\xb8\xae\x16\x56\xe3\xfa\xf1\x9f\xc4\x6a"
      "\xda\x09\x8d\xeb\x9c\x32\xb1\xfd\x86\x62\x05\x16\x5f\x49\xb8\x00";
  for (BadKey bad : {BadKey::kEncryptionAsMasking, BadKey::kCopiesAnotherClient, BadKey::kAllZero,
                     BadKey::kSmallOrder}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const uint32_t n = 6 + static_cast<uint32_t>(seed);
      SmallRound round = MakeSmallRound(n, seed);
      round.config.threshold = 2 * (n - 1) / 3 + 1;  // still reachable without the bad client
      const uint32_t evil = round.config.cohort_ids[seed % n];
      const uint32_t victim = round.config.cohort_ids[(seed + n - 1) % n];  // answers first
      auto driver = RoundDriver::Create(round.config);
      ASSERT_TRUE(driver.ok()) << driver.status();
      std::string victim_key;
      InProcessDelivery inner(std::move(round.clients), {});
      TamperingDelivery delivery(inner, evil,
                                 [&](Phase phase, uint32_t id, v1::SecAggClientToServer& message) {
                                   if (phase != Phase::kAdvertiseKeys) return;
                                   auto* keys = message.mutable_advertise_keys();
                                   if (id == victim) victim_key = keys->encryption_public_key();
                                   if (id != evil) return;
                                   switch (bad) {
                                     case BadKey::kEncryptionAsMasking:
                                       keys->set_masking_public_key(keys->encryption_public_key());
                                       break;
                                     case BadKey::kCopiesAnotherClient:
                                       keys->set_masking_public_key(victim_key);
                                       break;
                                     case BadKey::kAllZero:
                                       keys->set_masking_public_key(std::string(kKeyBytes, '\0'));
                                       break;
                                     case BadKey::kSmallOrder:
                                       keys->set_encryption_public_key(small_order);
                                       break;
                                   }
                                 });
      auto result = RunRound(**driver, delivery);
      ASSERT_TRUE(result.ok()) << "bad key " << static_cast<int>(bad) << " seed " << seed << ": "
                               << result.status();
      EXPECT_EQ(delivery.refusals().size(), 1u);
      EXPECT_EQ(result->survivor_ids.size(), n - 1);
      EXPECT_EQ(std::count(result->survivor_ids.begin(), result->survivor_ids.end(), evil), 0);
      EXPECT_EQ(result->quantized_sum, SumWithout(round, evil));
    }
  }
}

// ---------------------------------------------------------------------------
// 6. A fleet client whose advertisement is not properly signed is dropped by
// the server and by every neighbour alike; the round completes without it.

enum class BadIdentity { kNoSignature, kFlippedSignature, kNoIdentity, kOtherClientsIdentity };

TEST(BadIdentitySignatures, DropTheSignerAndTheRoundCompletes) {
  std::mt19937 rng(606);
  for (BadIdentity bad : {BadIdentity::kNoSignature, BadIdentity::kFlippedSignature,
                          BadIdentity::kNoIdentity, BadIdentity::kOtherClientsIdentity}) {
    const uint64_t seed = 1 + rng() % 1000;
    const uint32_t n = 6 + static_cast<uint32_t>(rng() % 4);
    SmallRound round = MakeSmallRound(n, seed, /*signed_round=*/true);
    round.config.threshold = 2 * (n - 1) / 3 + 1;
    const uint32_t evil = round.config.cohort_ids[rng() % n];
    const uint32_t other = round.config.cohort_ids[0] == evil ? round.config.cohort_ids[1]
                                                              : round.config.cohort_ids[0];
    auto driver = RoundDriver::Create(round.config);
    ASSERT_TRUE(driver.ok()) << driver.status();
    std::string other_identity;
    InProcessDelivery inner(std::move(round.clients), {});
    TamperingDelivery delivery(
        inner, evil, [&](Phase phase, uint32_t id, v1::SecAggClientToServer& message) {
          if (phase != Phase::kAdvertiseKeys) return;
          auto* keys = message.mutable_advertise_keys();
          if (id == other) other_identity = keys->identity();
          if (id != evil) return;
          switch (bad) {
            case BadIdentity::kNoSignature:
              keys->clear_signature();
              break;
            case BadIdentity::kFlippedSignature:
              (*keys->mutable_signature())[0] ^= 0x01;
              break;
            case BadIdentity::kNoIdentity:
              keys->clear_identity();
              break;
            case BadIdentity::kOtherClientsIdentity:
              // Replies arrive in id order; make sure the other's is known.
              keys->set_identity(other_identity.empty() ? std::string(32, 'x') : other_identity);
              break;
          }
        });
    auto result = RunRound(**driver, delivery);
    ASSERT_TRUE(result.ok()) << "case " << static_cast<int>(bad) << ": " << result.status();
    EXPECT_EQ(delivery.refusals().size(), 1u);
    EXPECT_EQ(result->survivor_ids.size(), n - 1);
    EXPECT_EQ(std::count(result->survivor_ids.begin(), result->survivor_ids.end(), evil), 0);
    EXPECT_EQ(result->quantized_sum, SumWithout(round, evil));
  }
}

// Signed rounds with random sizes and dropouts in every phase give the exact
// sum of the survivors, as unsigned ones do.
TEST(SignedRounds, RandomCohortsAndDropoutsGiveTheExactSum) {
  std::mt19937 rng(707);
  for (int trial = 0; trial < 6; ++trial) {
    const uint32_t n = 5 + static_cast<uint32_t>(rng() % 8);
    SmallRound round = MakeSmallRound(n, 500 + trial, /*signed_round=*/true);
    // At most one client drops, in any phase: t = floor(2n/3) + 1 <= n - 1
    // stays reachable, and clients accept it (t > 2/3 of the holders).
    DropoutPlan plan;
    if (rng() % 2 == 0) {
      plan.dropped_before[rng() % kPhaseCount].insert(round.config.cohort_ids[rng() % n]);
    }
    auto driver = RoundDriver::Create(round.config);
    ASSERT_TRUE(driver.ok()) << driver.status();
    InProcessDelivery delivery(std::move(round.clients), {plan, 1, {}});
    auto result = RunRound(**driver, delivery);
    ASSERT_TRUE(result.ok()) << "n " << n << ": " << result.status();
    std::vector<int64_t> expected(round.config.vector_length + 1, 0);
    for (uint32_t id : result->survivor_ids) {
      const auto& q = round.quantized->at(id);
      for (size_t i = 0; i < q.size(); ++i) expected[i] += q[i];
    }
    EXPECT_EQ(result->quantized_sum, expected);
  }
}

}  // namespace
}  // namespace tacit::secagg
