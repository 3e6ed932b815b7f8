// The consistency check on the client (Bonawitz et al. 2017, Sec. 6):
// ClientConsistencyCheckState signs only a well-formed survivor list on which
// at least threshold of its share holders stand, and the ClientUnmaskingState
// after it reveals nothing unless threshold of those holders (itself included)
// signed that very list. Real Ed25519 identities, four clients, t = 3.

#include "secure_agg/client/consistency_check_state.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "secure_agg/client/unmasking_state.h"
#include "secure_agg/identity.h"
#include "tests/secure_agg/state_test_support.h"

namespace tacit::secagg {
namespace {

constexpr uint64_t kRound = 9;

class ClientConsistencyCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parties = testing::MakeParties(4, 37);
    ctx_ = testing::ContextFor(parties.at(1), parties, testing::Params(kRound, 3, 4, 4));
    testing::AddBroadcast(ctx_, parties);
    fleet_ = std::make_shared<KnownKeysVerifier>();
    for (uint32_t id = 1; id <= 7; ++id) {
      std::shared_ptr<const Signer> signer = *Ed25519Signer::Generate();
      fleet_->Register(signer->identity());
      signers_.emplace(id, signer);
      if (auto peer = ctx_.peer_keys.find(id); peer != ctx_.peer_keys.end()) {
        peer->second.set_identity(ToString(signer->identity()));
      }
    }
    env_ = std::make_shared<ClientEnvironment>();
    env_->config.client_id = 1;
    env_->config.signer = signers_.at(1);
    env_->config.verifier = fleet_;
  }

  // The state after masking: it holds the shares of clients 1..4.
  std::unique_ptr<ClientConsistencyCheckState> State() const {
    HeldShares held;
    for (uint32_t owner = 1; owner <= 4; ++owner) {
      DecodedShares s;
      for (uint64_t c = 0; c < kShamirChunks; ++c) {
        s.self_mask.values.push_back(owner * 100 + c);
        s.masking_key.values.push_back(owner * 1000 + c);
      }
      held.by_owner.emplace(owner, s);
    }
    return std::make_unique<ClientConsistencyCheckState>(env_, ctx_, std::move(held));
  }

  v1::SecAggServerToClient Check(std::vector<uint32_t> ids) const {
    auto m = testing::ServerMessage(ctx_);
    for (uint32_t id : ids) m.mutable_consistency_check()->add_survivor_ids(id);
    return m;
  }

  std::string SignatureBy(uint32_t id, const std::vector<uint32_t>& list) const {
    return ToString(
        *signers_.at(id)->Sign(SurvivorListSigningInput(ctx_.session_id, kRound, list)));
  }

  // An unmasking request asking by `list` (1 holds shares of 1..4), carrying
  // the given neighbours' signatures over `signed_list`.
  v1::SecAggServerToClient Unmask(const std::vector<uint32_t>& list,
                                  const std::vector<uint32_t>& signers,
                                  const std::vector<uint32_t>& signed_list) const {
    auto m = testing::ServerMessage(ctx_);
    auto* r = m.mutable_unmasking_request();
    for (uint32_t id = 1; id <= 4; ++id) {
      if (std::count(list.begin(), list.end(), id)) {
        r->add_survivor_ids(id);
      } else {
        r->add_dropped_ids(id);
      }
    }
    for (uint32_t id : signers) {
      auto* s = r->add_survivor_signatures();
      s->set_client_id(id);
      s->set_signature(SignatureBy(id, signed_list));
    }
    return m;
  }

  RoundContext ctx_;
  std::shared_ptr<KnownKeysVerifier> fleet_;
  std::map<uint32_t, std::shared_ptr<const Signer>> signers_;
  std::shared_ptr<ClientEnvironment> env_;
};

TEST_F(ClientConsistencyCheckTest, SignsTheCanonicalListItWasShownAndRevealsNothing) {
  auto t = State()->Handle(Check({1, 2, 3, 4, 6}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ClientPhase::kAwaitingUnmasking);
  ASSERT_TRUE(t->reply.has_consistency_response());
  const std::string& signature = t->reply.consistency_response().signature();
  EXPECT_TRUE(fleet_
                  ->Verify(signers_.at(1)->identity(),
                           SurvivorListSigningInput(ctx_.session_id, kRound, {1, 2, 3, 4, 6}),
                           AsBytes(signature))
                  .ok());
  // The signature binds the list, the session and the round.
  EXPECT_FALSE(fleet_
                   ->Verify(signers_.at(1)->identity(),
                            SurvivorListSigningInput(ctx_.session_id, kRound, {1, 2, 3, 4}),
                            AsBytes(signature))
                   .ok());
  EXPECT_FALSE(fleet_
                   ->Verify(signers_.at(1)->identity(),
                            SurvivorListSigningInput(ctx_.session_id, kRound + 1, {1, 2, 3, 4, 6}),
                            AsBytes(signature))
                   .ok());
  EXPECT_EQ(t->reply.round_id(), kRound);
  EXPECT_EQ(t->reply.session_id(), ToString(ctx_.session_id));
}

TEST_F(ClientConsistencyCheckTest, RefusesListsItCannotStandBehind) {
  auto state = State();
  auto out_of_phase = testing::ServerMessage(ctx_);
  out_of_phase.mutable_unmasking_request();
  EXPECT_EQ(state->Handle(out_of_phase).status().code(), absl::StatusCode::kFailedPrecondition);
  auto wrong_session = Check({1, 2, 3, 4});
  wrong_session.set_session_id(std::string(32, 'q'));
  EXPECT_EQ(state->Handle(wrong_session).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(state->Handle(Check({1, 3, 2, 4})).status().code(),
            absl::StatusCode::kInvalidArgument);  // not increasing
  EXPECT_EQ(state->Handle(Check({1, 2, 2, 4})).status().code(),
            absl::StatusCode::kInvalidArgument);  // a duplicate
  EXPECT_EQ(state->Handle(Check({2, 3, 4})).status().code(),
            absl::StatusCode::kInvalidArgument);  // leaves this client out
  EXPECT_EQ(state->Handle(Check({1, 2})).status().code(),
            absl::StatusCode::kAborted);  // fewer than t
  EXPECT_EQ(state->Handle(Check({1, 2, 5, 6, 7})).status().code(),
            absl::StatusCode::kAborted);  // only 2 of its share holders on it
  // Nothing above changed the state: the honest list is still signed.
  EXPECT_TRUE(state->Handle(Check({1, 2, 3, 4})).ok());
}

TEST_F(ClientConsistencyCheckTest, UnmasksOnlyWhenThresholdHoldersSignedTheSameList) {
  const std::vector<uint32_t> list = {1, 2, 3, 4};
  auto checked = State()->Handle(Check(list));
  ASSERT_TRUE(checked.ok()) << checked.status();
  ClientState& unmasking = *checked->next;
  // Itself and one neighbour: 2 of t = 3.
  EXPECT_EQ(unmasking.Handle(Unmask(list, {2}, list)).status().code(), absl::StatusCode::kAborted);
  // A neighbour's signature over another list (the server split the views).
  EXPECT_EQ(unmasking.Handle(Unmask(list, {2, 3}, {1, 2, 3})).status().code(),
            absl::StatusCode::kUnauthenticated);
  // A signature of a client that is no neighbour, and one forwarded twice.
  EXPECT_EQ(unmasking.Handle(Unmask(list, {2, 7}, list)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unmasking.Handle(Unmask(list, {2, 2}, list)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A request that disagrees with the signed list: 4 "dropped".
  EXPECT_EQ(unmasking.Handle(Unmask({1, 2, 3}, {2, 3}, list)).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto revealed = unmasking.Handle(Unmask(list, {2, 3}, list));
  ASSERT_TRUE(revealed.ok()) << revealed.status();
  EXPECT_EQ(revealed->reply.unmasking_response().self_mask_shares_size(), 4);
  EXPECT_EQ(revealed->reply.unmasking_response().masking_key_shares_size(), 0);
}

TEST_F(ClientConsistencyCheckTest, AListWithoutANeighbourAsksForItsMaskingKeyOnly) {
  const std::vector<uint32_t> list = {1, 2, 3};  // 4 shared keys but sent no input
  auto checked = State()->Handle(Check(list));
  ASSERT_TRUE(checked.ok()) << checked.status();
  auto revealed = checked->next->Handle(Unmask(list, {2, 3}, list));
  ASSERT_TRUE(revealed.ok()) << revealed.status();
  const auto& r = revealed->reply.unmasking_response();
  EXPECT_EQ(r.self_mask_shares_size(), 3);
  ASSERT_EQ(r.masking_key_shares_size(), 1);
  EXPECT_EQ(r.masking_key_shares(0).owner_id(), 4u);
}

}  // namespace
}  // namespace tacit::secagg
