// ServerConsistencyCheckState alone: with an identity verifier it takes only
// signatures over the one survivor list it showed, asks the signers (and only
// them) to unmask by that list, and forwards to each the signatures of its
// neighbours; below threshold signers the round fails revealing nothing.

#include "secure_agg/server/consistency_check_state.h"

#include "gtest/gtest.h"
#include "secure_agg/identity.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

class ServerConsistencyCheckStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet_ = std::make_shared<KnownKeysVerifier>();
    PublicKeyMap keys = *testing::KeyMap(testing::MakeParties(5, 91));
    for (auto& [id, k] : keys) {
      std::shared_ptr<const Signer> signer = *Ed25519Signer::Generate();
      fleet_->Register(signer->identity());
      k.set_identity(ToString(signer->identity()));
      signers_.emplace(id, signer);
    }
    ServerConfig config = testing::SmallConfig();
    config.verifier = fleet_;
    session_ = Bytes(32, 0x44);
    // 1..4 sent masked inputs, 5 shared keys but sent none.
    state_ = std::make_unique<ServerConsistencyCheckState>(
        testing::MakeRound(config), std::set<uint32_t>{1, 2, 3, 4}, session_,
        std::make_shared<const PublicKeyMap>(keys), std::set<uint32_t>{1, 2, 3, 4, 5},
        std::vector<uint64_t>(5, 0));
  }

  v1::SecAggClientToServer Signed(uint32_t id, const std::vector<uint32_t>& list) const {
    auto m = testing::ClientMessage(7, session_);
    m.mutable_consistency_response()->set_signature(
        ToString(*signers_.at(id)->Sign(SurvivorListSigningInput(session_, 7, list))));
    return m;
  }

  std::shared_ptr<KnownKeysVerifier> fleet_;
  std::map<uint32_t, std::shared_ptr<const Signer>> signers_;
  Bytes session_;
  std::unique_ptr<ServerConsistencyCheckState> state_;
};

TEST_F(ServerConsistencyCheckStateTest, ForwardsOnlySignaturesOverTheListItShowed) {
  const std::vector<uint32_t> list = {1, 2, 3, 4};
  EXPECT_EQ(state_->survivor_list(), list);
  ASSERT_TRUE(state_->HandleClientMessage(1, Signed(1, list)).ok());
  // Another list, another client's key, no signature: rejected, nothing kept.
  EXPECT_EQ(state_->HandleClientMessage(2, Signed(2, {1, 2, 3})).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(state_->HandleClientMessage(2, Signed(3, list)).code(),
            absl::StatusCode::kUnauthenticated);
  auto unsigned_reply = testing::ClientMessage(7, session_);
  unsigned_reply.mutable_consistency_response();
  EXPECT_EQ(state_->HandleClientMessage(2, unsigned_reply).code(),
            absl::StatusCode::kUnauthenticated);
  // 5 is not on the list: it is not asked to sign.
  EXPECT_EQ(state_->HandleClientMessage(5, Signed(5, list)).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(state_->HandleClientMessage(3, Signed(3, list)).ok());
  ASSERT_TRUE(state_->HandleClientMessage(4, Signed(4, list)).ok());
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{2}));

  auto t = state_->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ServerPhase::kUnmasking);
  EXPECT_EQ(t->next->PendingClients(), (std::vector<uint32_t>{1, 3, 4}));
  ASSERT_EQ(t->outcome.messages.size(), 3u);
  const auto r = t->outcome.messages.Get(1)->unmasking_request();
  // Unmasking follows the list (2 is a survivor though it did not sign).
  EXPECT_EQ(std::vector<uint32_t>(r.survivor_ids().begin(), r.survivor_ids().end()), list);
  EXPECT_EQ(std::vector<uint32_t>(r.dropped_ids().begin(), r.dropped_ids().end()),
            (std::vector<uint32_t>{5}));
  std::vector<uint32_t> forwarded;
  for (const auto& s : r.survivor_signatures()) {
    forwarded.push_back(s.client_id());
    EXPECT_TRUE(fleet_
                    ->Verify(signers_.at(s.client_id())->identity(),
                             SurvivorListSigningInput(session_, 7, list), AsBytes(s.signature()))
                    .ok());
  }
  EXPECT_EQ(forwarded, (std::vector<uint32_t>{3, 4}));
}

TEST_F(ServerConsistencyCheckStateTest, FailsBelowThresholdSignersRevealingNothing) {
  const std::vector<uint32_t> list = {1, 2, 3, 4};
  ASSERT_TRUE(state_->HandleClientMessage(1, Signed(1, list)).ok());
  ASSERT_TRUE(state_->HandleClientMessage(4, Signed(4, list)).ok());
  auto t = state_->Advance();
  EXPECT_EQ(t.status().code(), absl::StatusCode::kAborted) << t.status();
  EXPECT_NE(t.status().message().find("consistency_check"), std::string::npos) << t.status();
}

}  // namespace
}  // namespace tacit::secagg
