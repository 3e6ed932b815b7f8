// ClientShareKeysState alone: a key broadcast is checked (keys, neighbours,
// threshold policy, session id), and the reply holds one sealed share per
// neighbour that the neighbour can open and that reconstructs the client's
// secrets. Rejected broadcasts leave the state as it was.

#include "secure_agg/client/share_keys_state.h"

#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "secure_agg/identity.h"
#include "tests/secure_agg/state_test_support.h"

namespace tacit::secagg {
namespace {

using testing::Party;

class ClientShareKeysStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parties_ = testing::MakeParties(4, 11);
    params_ = testing::Params(9, 3, 4, 4);
    env_ = std::make_shared<ClientEnvironment>();
    env_->config.client_id = 1;
    env_->weight = 1.0;
    env_->random = testing::Seeded(12, "client-1");
    state_ = std::make_unique<ClientShareKeysState>(
        env_, testing::ContextFor(parties_.at(1), parties_, params_));
  }

  v1::SecAggServerToClient Broadcast() const {
    v1::SecAggServerToClient m;
    m.set_round_id(9);
    m.set_session_id(ToString(*ComputeSessionId(params_, testing::SortedKeys(parties_))));
    for (const auto& [id, p] : parties_) *m.mutable_keys_broadcast()->add_keys() = p.PublicKeys();
    return m;
  }

  std::map<uint32_t, Party> parties_;
  v1::SecAggRoundParameters params_;
  std::shared_ptr<ClientEnvironment> env_;
  std::unique_ptr<ClientShareKeysState> state_;
};

TEST_F(ClientShareKeysStateTest, SealsOneShareForEveryNeighbour) {
  const v1::SecAggServerToClient broadcast = Broadcast();
  auto t = state_->Handle(broadcast);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ClientPhase::kAwaitingShares);
  EXPECT_EQ(t->reply.session_id(), broadcast.session_id());
  ASSERT_EQ(t->reply.share_keys().shares_size(), 3);

  // Each neighbour opens its share; with this client's own, any 3 recover
  // both secrets.
  RoundContext ctx = testing::ContextFor(parties_.at(1), parties_, params_);
  testing::AddBroadcast(ctx, parties_);
  std::vector<ShamirShare> self_mask, masking_key;
  std::set<uint32_t> recipients;
  for (const auto& share : t->reply.share_keys().shares()) {
    EXPECT_EQ(share.sender_id(), 1u);
    recipients.insert(share.recipient_id());
    const Party& to = parties_.at(share.recipient_id());
    SecretKey agreed =
        *X25519Agree(to.encryption.private_key, parties_.at(1).encryption.public_key);
    SecretKey key = *ShareEncryptionKey(agreed, ctx.session_id, 9, 1, to.id);
    auto plain = AesGcmOpen(key, AsBytes(share.nonce()), AsBytes(share.ciphertext()),
                            ShareAssociatedData(ctx.session_id, 9, 1, to.id));
    ASSERT_TRUE(plain.ok()) << plain.status();
    auto decoded = DecodeSharePlaintext(*plain, 1, to.id);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    self_mask.push_back(decoded->self_mask);
    masking_key.push_back(decoded->masking_key);
  }
  EXPECT_EQ(recipients, (std::set<uint32_t>{2, 3, 4}));
  auto seed = ShamirReconstruct(self_mask, 3);
  auto mkey = ShamirReconstruct(masking_key, 3);
  ASSERT_TRUE(seed.ok() && mkey.ok());
  EXPECT_TRUE(ConstantTimeEquals(seed->span(), parties_.at(1).self_mask_seed.span()));
  EXPECT_TRUE(ConstantTimeEquals(mkey->span(), parties_.at(1).masking.private_key.span()));

  // Deterministic: the same state and source give the same bytes.
  ClientShareKeysStateTest::SetUp();
  auto again = state_->Handle(broadcast);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reply.SerializeAsString(), t->reply.SerializeAsString());
}

TEST_F(ClientShareKeysStateTest, RejectsWithDocumentedCodesAndStaysUsable) {
  v1::SecAggServerToClient out_of_phase = Broadcast();
  out_of_phase.mutable_shares_delivery();
  EXPECT_EQ(state_->Handle(out_of_phase).status().code(), absl::StatusCode::kFailedPrecondition);

  auto wrong_round = Broadcast();
  wrong_round.set_round_id(8);
  EXPECT_EQ(state_->Handle(wrong_round).status().code(), absl::StatusCode::kUnauthenticated);

  auto short_session = Broadcast();
  short_session.set_session_id("abc");
  EXPECT_EQ(state_->Handle(short_session).status().code(), absl::StatusCode::kUnauthenticated);

  auto tampered_session = Broadcast();
  (*tampered_session.mutable_session_id())[0] ^= 1;
  EXPECT_EQ(state_->Handle(tampered_session).status().code(), absl::StatusCode::kUnauthenticated);

  auto duplicate = Broadcast();
  *duplicate.mutable_keys_broadcast()->add_keys() = parties_.at(2).PublicKeys();
  EXPECT_EQ(state_->Handle(duplicate).status().code(), absl::StatusCode::kInvalidArgument);

  auto stranger = Broadcast();
  auto* extra = stranger.mutable_keys_broadcast()->add_keys();
  *extra = testing::MakeParty(9, 11).PublicKeys();
  EXPECT_EQ(state_->Handle(stranger).status().code(), absl::StatusCode::kInvalidArgument);

  auto other_self = Broadcast();
  other_self.mutable_keys_broadcast()->mutable_keys(0)->set_masking_public_key(
      parties_.at(3).PublicKeys().encryption_public_key().substr(0, 31) + "x");
  EXPECT_EQ(state_->Handle(other_self).status().code(), absl::StatusCode::kInvalidArgument);

  // A repeated key drops both neighbours listing it: 2 holders are left,
  // fewer than the threshold 3.
  auto repeated_key = Broadcast();
  repeated_key.mutable_keys_broadcast()->mutable_keys(2)->set_masking_public_key(
      repeated_key.keys_broadcast().keys(1).masking_public_key());
  EXPECT_EQ(state_->Handle(repeated_key).status().code(), absl::StatusCode::kAborted);

  auto omits_self = Broadcast();
  omits_self.mutable_keys_broadcast()->mutable_keys()->erase(
      omits_self.mutable_keys_broadcast()->mutable_keys()->begin());
  EXPECT_EQ(state_->Handle(omits_self).status().code(), absl::StatusCode::kInvalidArgument);

  // Only 2 of 4 holders advertised: fewer than the threshold 3.
  auto too_few = Broadcast();
  too_few.mutable_keys_broadcast()->mutable_keys()->RemoveLast();
  too_few.mutable_keys_broadcast()->mutable_keys()->RemoveLast();
  EXPECT_EQ(state_->Handle(too_few).status().code(), absl::StatusCode::kAborted);

  // The untouched state still accepts the real broadcast, with the same bytes
  // as a fresh one (the rejections drew nothing and stored nothing).
  auto accepted = state_->Handle(Broadcast());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  ClientShareKeysStateTest::SetUp();
  auto fresh = state_->Handle(Broadcast());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(accepted->reply.SerializeAsString(), fresh->reply.SerializeAsString());
}

// A neighbour whose keys are unusable (short, small-order, equal to each
// other) is dropped: no share goes to it, and the round goes on while the
// threshold still holds (3 of the 3 holders left here).
TEST_F(ClientShareKeysStateTest, DropsANeighbourWithUnusableKeysInsteadOfAborting) {
  const std::string small_order(kKeyBytes, '\0');
  for (int bad = 0; bad < 3; ++bad) {
    SetUp();
    auto broadcast = Broadcast();
    auto* keys = broadcast.mutable_keys_broadcast()->mutable_keys(1);
    ASSERT_EQ(keys->client_id(), 2u);
    if (bad == 0) keys->set_encryption_public_key("k");
    if (bad == 1) keys->set_masking_public_key(small_order);
    if (bad == 2) keys->set_masking_public_key(keys->encryption_public_key());
    // An honest server's session id hashes what it broadcast.
    const std::vector<v1::SecAggPublicKeys> listed(broadcast.keys_broadcast().keys().begin(),
                                                   broadcast.keys_broadcast().keys().end());
    broadcast.set_session_id(ToString(*ComputeSessionId(params_, listed)));
    auto t = state_->Handle(broadcast);
    ASSERT_TRUE(t.ok()) << "case " << bad << ": " << t.status();
    std::set<uint32_t> recipients;
    for (const auto& share : t->reply.share_keys().shares())
      recipients.insert(share.recipient_id());
    EXPECT_EQ(recipients, (std::set<uint32_t>{3, 4})) << "case " << bad;
  }
}

TEST_F(ClientShareKeysStateTest, RefusesAThresholdTooLowForItsHolders) {
  params_.set_threshold(2);  // 2 of 4 holders is not above two thirds
  state_ = std::make_unique<ClientShareKeysState>(
      env_, testing::ContextFor(parties_.at(1), parties_, params_));
  EXPECT_EQ(state_->Handle(Broadcast()).status().code(), absl::StatusCode::kInvalidArgument);
  env_->config.min_threshold_fraction = 0.4;
  EXPECT_TRUE(state_->Handle(Broadcast()).ok());
}

TEST_F(ClientShareKeysStateTest, AFailedDrawFailsTheStepAndSendsNothing) {
  env_->random = std::make_shared<testing::FailingRandomSource>();
  auto t = state_->Handle(Broadcast());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInternal) << t.status();
}

}  // namespace
}  // namespace tacit::secagg

namespace tacit::secagg {
namespace {

// A verifying client: neighbours that are not signed by a fleet identity are
// dropped (no share is sealed to them), a shared identity refuses the round.
class SignedShareKeysTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kCohort = 7;  // t = 5 > 2/3 of 7 and of 6 holders
  void Build(uint64_t seed) {
    parties_ = testing::MakeParties(kCohort, seed);
    params_ = testing::Params(9, 5, kCohort, 4);
    verifier_ = std::make_shared<KnownKeysVerifier>();
    for (uint32_t id = 1; id <= kCohort + 1; ++id) {  // one spare fleet device
      signers_[id] = *Ed25519Signer::Generate();
      verifier_->Register(signers_[id]->identity());
    }
    env_ = std::make_shared<ClientEnvironment>();
    env_->config.client_id = 1;
    env_->config.verifier = verifier_;
    env_->random = testing::Seeded(seed, "client-1");
    state_ = std::make_unique<ClientShareKeysState>(
        env_, testing::ContextFor(parties_.at(1), parties_, params_));
  }
  v1::SecAggPublicKeys Signed(uint32_t id) const {
    v1::SecAggPublicKeys k = parties_.at(id).PublicKeys();
    k.set_identity(ToString(signers_.at(id)->identity()));
    k.set_signature(ToString(*signers_.at(id)->Sign(AdvertisementSigningInput(
        params_, id, k.encryption_public_key(), k.masking_public_key()))));
    return k;
  }
  v1::SecAggServerToClient Broadcast(const std::vector<v1::SecAggPublicKeys>& keys) const {
    v1::SecAggServerToClient m;
    m.set_round_id(9);
    m.set_session_id(ToString(*ComputeSessionId(params_, keys)));
    for (const auto& k : keys) *m.mutable_keys_broadcast()->add_keys() = k;
    return m;
  }
  static std::set<uint32_t> Recipients(const v1::SecAggClientToServer& reply) {
    std::set<uint32_t> out;
    for (const auto& s : reply.share_keys().shares()) out.insert(s.recipient_id());
    return out;
  }

  std::map<uint32_t, Party> parties_;
  v1::SecAggRoundParameters params_;
  std::shared_ptr<KnownKeysVerifier> verifier_;
  std::map<uint32_t, std::shared_ptr<Ed25519Signer>> signers_;
  std::shared_ptr<ClientEnvironment> env_;
  std::unique_ptr<ClientShareKeysState> state_;
};

enum class BadSignature { kMissing, kNoIdentity, kFlippedBit, kOtherDevicesIdentity, kUnknownKey };

TEST_F(SignedShareKeysTest, DropsExactlyTheNeighbourWhoseSignatureFails) {
  std::mt19937 rng(31);
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Build(seed);
    const uint32_t bad_id = 2 + rng() % (kCohort - 1);
    const auto bad = static_cast<BadSignature>(rng() % 5);
    std::vector<v1::SecAggPublicKeys> keys;
    for (uint32_t id = 1; id <= kCohort; ++id) keys.push_back(Signed(id));
    v1::SecAggPublicKeys& k = keys[bad_id - 1];
    switch (bad) {
      case BadSignature::kMissing:
        k.clear_signature();
        break;
      case BadSignature::kNoIdentity:
        k.clear_identity();
        break;
      case BadSignature::kFlippedBit:
        (*k.mutable_signature())[rng() % k.signature().size()] ^= 0x10;
        break;
      case BadSignature::kOtherDevicesIdentity:  // the spare device, not in the round
        k.set_identity(ToString(signers_.at(kCohort + 1)->identity()));
        break;
      case BadSignature::kUnknownKey: {
        auto rogue = *Ed25519Signer::Generate();
        k.set_identity(ToString(rogue->identity()));
        k.set_signature(ToString(*rogue->Sign(AdvertisementSigningInput(
            params_, bad_id, k.encryption_public_key(), k.masking_public_key()))));
        break;
      }
    }
    auto t = state_->Handle(Broadcast(keys));
    ASSERT_TRUE(t.ok()) << t.status();
    std::set<uint32_t> expected;
    for (uint32_t id = 2; id <= kCohort; ++id) {
      if (id != bad_id) expected.insert(id);
    }
    EXPECT_EQ(Recipients(t->reply), expected) << "seed " << seed << " case " << int(bad);
  }
}

TEST_F(SignedShareKeysTest, AllSignedNeighboursGetShares) {
  Build(3);
  std::vector<v1::SecAggPublicKeys> keys;
  for (uint32_t id = 1; id <= kCohort; ++id) keys.push_back(Signed(id));
  auto t = state_->Handle(Broadcast(keys));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Recipients(t->reply).size(), kCohort - 1);
}

TEST_F(SignedShareKeysTest, UnsignedBroadcastIsRefusedBeforeAnyShare) {
  Build(4);
  std::vector<v1::SecAggPublicKeys> keys;
  for (uint32_t id = 1; id <= kCohort; ++id) {
    keys.push_back(id == 1 ? Signed(id) : parties_.at(id).PublicKeys());
  }
  auto t = state_->Handle(Broadcast(keys));
  EXPECT_TRUE(absl::IsAborted(t.status())) << t.status();
  EXPECT_EQ(state_->context().session_id.size(), 0u);  // nothing committed
}

TEST_F(SignedShareKeysTest, TwoSeatsWithOneIdentityRefuseTheBroadcast) {
  Build(5);
  std::vector<v1::SecAggPublicKeys> keys;
  for (uint32_t id = 1; id <= kCohort; ++id) keys.push_back(Signed(id));
  // The same device signs a second seat's keys (both signatures are valid).
  keys[3].set_identity(ToString(signers_.at(3)->identity()));
  keys[3].set_signature(ToString(*signers_.at(3)->Sign(AdvertisementSigningInput(
      params_, 4, keys[3].encryption_public_key(), keys[3].masking_public_key()))));
  auto t = state_->Handle(Broadcast(keys));
  EXPECT_TRUE(absl::IsInvalidArgument(t.status())) << t.status();
  EXPECT_NE(t.status().message().find("one identity"), std::string::npos) << t.status();
}

}  // namespace
}  // namespace tacit::secagg
