// ServerAdvertiseKeysState alone: keys are recorded once per cohort member,
// every rejection has its documented code and changes nothing, and Advance()
// binds the session id to the parameters and the advertised keys.

#include "secure_agg/server/advertise_keys_state.h"

#include "gtest/gtest.h"
#include "secure_agg/advertised_keys.h"
#include "secure_agg/identity.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

class ServerAdvertiseKeysStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    round_ = testing::MakeRound(testing::SmallConfig());
    parties_ = testing::MakeParties(5, 51);
    state_ = std::make_unique<ServerAdvertiseKeysState>(round_);
  }
  v1::SecAggClientToServer Advertise(uint32_t id) const {
    auto m = testing::ClientMessage(7, {});
    m.mutable_advertise_keys()->set_encryption_public_key(
        parties_.at(id).PublicKeys().encryption_public_key());
    m.mutable_advertise_keys()->set_masking_public_key(
        parties_.at(id).PublicKeys().masking_public_key());
    return m;
  }

  std::shared_ptr<const ServerRound> round_;
  std::map<uint32_t, testing::Party> parties_;
  std::unique_ptr<ServerAdvertiseKeysState> state_;
};

TEST_F(ServerAdvertiseKeysStateTest, BroadcastsKeysUnderTheSessionId) {
  for (uint32_t id = 1; id <= 5; ++id)
    ASSERT_TRUE(state_->HandleClientMessage(id, Advertise(id)).ok());
  EXPECT_TRUE(state_->PendingClients().empty());
  auto t = state_->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ServerPhase::kShareKeys);
  const Bytes session =
      *ComputeSessionId(round_->CommonParameters(), testing::SortedKeys(parties_));
  ASSERT_EQ(t->outcome.messages.size(), 5u);
  for (const auto& [id, m] : t->outcome.messages.ToMap()) {
    EXPECT_EQ(m.session_id(), ToString(session));
    ASSERT_EQ(m.keys_broadcast().keys_size(), 5);
    EXPECT_EQ(m.keys_broadcast().keys(0).client_id(), id);  // its own first
  }
}

TEST_F(ServerAdvertiseKeysStateTest, RejectsWithDocumentedCodesAndChangesNothing) {
  EXPECT_EQ(state_->HandleClientMessage(9, Advertise(1)).code(), absl::StatusCode::kNotFound);
  auto wrong_round = Advertise(1);
  wrong_round.set_round_id(8);
  EXPECT_EQ(state_->HandleClientMessage(1, wrong_round).code(), absl::StatusCode::kUnauthenticated);
  auto out_of_phase = testing::ClientMessage(7, {});
  out_of_phase.mutable_masked_input()->set_length(5);
  EXPECT_EQ(state_->HandleClientMessage(1, out_of_phase).code(),
            absl::StatusCode::kFailedPrecondition);
  auto short_key = Advertise(1);
  short_key.mutable_advertise_keys()->set_encryption_public_key("short");
  EXPECT_EQ(state_->HandleClientMessage(1, short_key).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{1, 2, 3, 4, 5}));

  ASSERT_TRUE(state_->HandleClientMessage(1, Advertise(1)).ok());
  EXPECT_EQ(state_->HandleClientMessage(1, Advertise(2)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{2, 3, 4, 5}));
}

TEST_F(ServerAdvertiseKeysStateTest, FailsBelowThresholdWithAborted) {
  ASSERT_TRUE(state_->HandleClientMessage(1, Advertise(1)).ok());
  ASSERT_TRUE(state_->HandleClientMessage(2, Advertise(2)).ok());
  EXPECT_EQ(state_->Advance().status().code(), absl::StatusCode::kAborted);
}

TEST_F(ServerAdvertiseKeysStateTest, OnlyAdvertisersAreBroadcastAndExpectedNext) {
  for (uint32_t id : {1u, 2u, 4u}) ASSERT_TRUE(state_->HandleClientMessage(id, Advertise(id)).ok());
  auto t = state_->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->outcome.messages.size(), 3u);
  EXPECT_EQ(t->outcome.messages.Get(4)->keys_broadcast().keys_size(), 3);
  EXPECT_EQ(t->next->PendingClients(), (std::vector<uint32_t>{1, 2, 4}));
}

}  // namespace
}  // namespace tacit::secagg

namespace tacit::secagg {
namespace {

// A server with a verifier drops, in advertise_keys, every client its
// verifying neighbours would drop, and relays identity and signature of the
// ones it keeps.
class SignedServerAdvertiseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    verifier_ = std::make_shared<KnownKeysVerifier>();
    for (uint32_t id = 1; id <= 5; ++id) {
      signers_[id] = *Ed25519Signer::Generate();
      verifier_->Register(signers_[id]->identity());
    }
    ServerConfig config = testing::SmallConfig();
    config.verifier = verifier_;
    round_ = testing::MakeRound(config);
    parties_ = testing::MakeParties(5, 52);
    state_ = std::make_unique<ServerAdvertiseKeysState>(round_);
  }
  v1::SecAggClientToServer Advertise(uint32_t id, uint32_t signed_by) const {
    auto m = testing::ClientMessage(7, {});
    auto* a = m.mutable_advertise_keys();
    a->set_encryption_public_key(parties_.at(id).PublicKeys().encryption_public_key());
    a->set_masking_public_key(parties_.at(id).PublicKeys().masking_public_key());
    a->set_identity(ToString(signers_.at(signed_by)->identity()));
    a->set_signature(ToString(*signers_.at(signed_by)->Sign(AdvertisementSigningInput(
        round_->CommonParameters(), id, a->encryption_public_key(), a->masking_public_key()))));
    return m;
  }

  std::shared_ptr<KnownKeysVerifier> verifier_;
  std::map<uint32_t, std::shared_ptr<Ed25519Signer>> signers_;
  std::shared_ptr<const ServerRound> round_;
  std::map<uint32_t, testing::Party> parties_;
  std::unique_ptr<ServerAdvertiseKeysState> state_;
};

TEST_F(SignedServerAdvertiseTest, RefusesBadSignersAndRelaysTheGoodOnes) {
  auto unsigned_keys = Advertise(1, 1);
  unsigned_keys.mutable_advertise_keys()->clear_signature();
  EXPECT_TRUE(absl::IsUnauthenticated(state_->HandleClientMessage(1, unsigned_keys)));
  auto forged = Advertise(2, 2);
  (*forged.mutable_advertise_keys()->mutable_signature())[5] ^= 1;
  EXPECT_TRUE(absl::IsUnauthenticated(state_->HandleClientMessage(2, forged)));
  auto stranger = Advertise(3, 3);
  auto rogue = *Ed25519Signer::Generate();
  stranger.mutable_advertise_keys()->set_identity(ToString(rogue->identity()));
  stranger.mutable_advertise_keys()->set_signature(ToString(*rogue->Sign(AdvertisementSigningInput(
      round_->CommonParameters(), 3, stranger.advertise_keys().encryption_public_key(),
      stranger.advertise_keys().masking_public_key()))));
  EXPECT_TRUE(absl::IsUnauthenticated(state_->HandleClientMessage(3, stranger)));
  // Refusals record nothing: the same clients may still answer properly.
  for (uint32_t id = 1; id <= 4; ++id) {
    ASSERT_TRUE(state_->HandleClientMessage(id, Advertise(id, id)).ok()) << id;
  }
  // Client 5 signs with client 4's identity: one device, one seat.
  auto second_seat = state_->HandleClientMessage(5, Advertise(5, 4));
  EXPECT_TRUE(absl::IsInvalidArgument(second_seat)) << second_seat;
  auto t = state_->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  for (const auto& [id, m] : t->outcome.messages.ToMap()) {
    for (const auto& k : m.keys_broadcast().keys()) {
      EXPECT_EQ(k.identity(), ToString(signers_.at(k.client_id())->identity()));
      EXPECT_TRUE(CheckAdvertisementSignature(*verifier_, round_->CommonParameters(), k).ok());
    }
  }
  EXPECT_FALSE(t->outcome.messages.contains(5));
}

}  // namespace
}  // namespace tacit::secagg
