// ClientUnmaskingState alone: it reveals exactly the requested shares, and
// refuses (PermissionDenied) requests that would reveal both secrets of one
// client or its own masking key or that disagree with the survivor list it
// signed, and aborts when too few survived. Survivor-list signatures are
// tested in consistency_check_test.cc.

#include "secure_agg/client/unmasking_state.h"

#include "gtest/gtest.h"
#include "tests/secure_agg/state_test_support.h"

namespace tacit::secagg {
namespace {

class ClientUnmaskingStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parties = testing::MakeParties(4, 31);
    ctx_ = testing::ContextFor(parties.at(1), parties, testing::Params(9, 3, 4, 4));
    testing::AddBroadcast(ctx_, parties);
    for (uint32_t owner = 1; owner <= 4; ++owner) {
      DecodedShares s;
      s.self_mask.holder_id = 1;
      s.masking_key.holder_id = 1;
      for (uint64_t c = 0; c < kShamirChunks; ++c) {
        s.self_mask.values.push_back(owner * 100 + c);
        s.masking_key.values.push_back(owner * 1000 + c);
      }
      held_.by_owner.emplace(owner, s);
    }
    state_ = MakeState({1, 2, 3, 4, 7});
  }

  // A fresh state whose client signed `signed_survivors` (an unsigned round).
  std::unique_ptr<ClientUnmaskingState> MakeState(std::vector<uint32_t> signed_survivors) const {
    HeldShares copy;
    for (const auto& [owner, shares] : held_.by_owner) copy.by_owner.emplace(owner, shares);
    return std::make_unique<ClientUnmaskingState>(std::make_shared<ClientEnvironment>(), ctx_,
                                                  std::move(copy), std::move(signed_survivors));
  }

  v1::SecAggServerToClient Request(std::vector<uint32_t> survivors,
                                   std::vector<uint32_t> dropped) const {
    auto m = testing::ServerMessage(ctx_);
    auto* r = m.mutable_unmasking_request();
    for (uint32_t s : survivors) r->add_survivor_ids(s);
    for (uint32_t d : dropped) r->add_dropped_ids(d);
    return m;
  }

  RoundContext ctx_;
  HeldShares held_;
  std::unique_ptr<ClientUnmaskingState> state_;
};

TEST_F(ClientUnmaskingStateTest, RevealsExactlyTheRequestedShares) {
  auto t = MakeState({1, 2, 4})->Handle(Request({1, 2, 4}, {3}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ClientPhase::kCompleted);
  const auto& r = t->reply.unmasking_response();
  ASSERT_EQ(r.self_mask_shares_size(), 3);
  ASSERT_EQ(r.masking_key_shares_size(), 1);
  EXPECT_EQ(r.self_mask_shares(1).owner_id(), 2u);
  EXPECT_EQ(r.self_mask_shares(1).values(4), 204u);
  EXPECT_EQ(r.masking_key_shares(0).owner_id(), 3u);
  EXPECT_EQ(r.masking_key_shares(0).values(0), 3000u);
  EXPECT_EQ(t->reply.session_id(), ToString(ctx_.session_id));
}

TEST_F(ClientUnmaskingStateTest, RefusesWithDocumentedCodesAndStaysUsable) {
  auto out_of_phase = testing::ServerMessage(ctx_);
  out_of_phase.mutable_shares_delivery();
  EXPECT_EQ(state_->Handle(out_of_phase).status().code(), absl::StatusCode::kFailedPrecondition);

  auto wrong_session = Request({1, 2, 3}, {4});
  wrong_session.set_session_id(std::string(32, 'q'));
  EXPECT_EQ(state_->Handle(wrong_session).status().code(), absl::StatusCode::kUnauthenticated);

  auto wrong_round = Request({1, 2, 3}, {4});
  wrong_round.set_round_id(10);
  EXPECT_EQ(state_->Handle(wrong_round).status().code(), absl::StatusCode::kUnauthenticated);

  // Both secrets of client 2.
  EXPECT_EQ(state_->Handle(Request({1, 2, 3}, {2})).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Its own masking key after it sent its masked input.
  EXPECT_EQ(state_->Handle(Request({2, 3}, {1})).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A client whose shares it does not hold.
  EXPECT_EQ(state_->Handle(Request({1, 2, 7}, {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state_->Handle(Request({1, 2, 3}, {8})).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Against the list it signed: 3 and 4 survived, 9 is not on it.
  EXPECT_EQ(state_->Handle(Request({1, 2, 3}, {4})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(state_->Handle(Request({1, 2, 3, 9}, {})).status().code(),
            absl::StatusCode::kPermissionDenied);

  // Fewer than threshold 3 survivors: the round cannot complete.
  EXPECT_EQ(state_->Handle(Request({1, 2}, {})).status().code(), absl::StatusCode::kAborted);

  auto t = state_->Handle(Request({1, 2, 3, 4}, {}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reply.unmasking_response().self_mask_shares_size(), 4);
}

}  // namespace
}  // namespace tacit::secagg
