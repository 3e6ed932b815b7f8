// ServerUnmaskingState alone, on a hand-built round of four clients that
// shared keys (1..4), of which 1..3 sent masked inputs: from the returned
// shares it removes every self mask and the dropped client's pairwise masks
// and recovers the exact sum. Malformed responses are rejected, corrupted
// masking-key shares end the round with DataLoss.

#include "secure_agg/server/unmasking_state.h"

#include "gtest/gtest.h"
#include "secure_agg/masking.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

class ServerUnmaskingStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::SmallConfig();
    round_ = testing::MakeRound(config_);
    parties_ = testing::MakeParties(5, 81);
    session_ = Bytes(32, 0x33);
    std::map<uint32_t, testing::Party> sharing(parties_.begin(), parties_.find(5));
    auto split_random = testing::Seeded(82, "split");
    shares_ = testing::SplitAll(sharing, 3, *split_random);
    // Inputs and the masked sum the clients 1..3 would have produced.
    std::vector<uint64_t> sum(5, 0);
    for (uint32_t u : {1u, 2u, 3u}) {
      std::vector<int64_t> x = {int64_t{u} * 10, -int64_t{u}, 7, int64_t{u} * u, 1024};
      std::vector<uint64_t> masked(5);
      for (size_t i = 0; i < 5; ++i) {
        masked[i] = ToModular(x[i], 32);
        expected_[i] += x[i];
      }
      std::vector<MaskTerm> terms{{parties_.at(u).self_mask_seed, 1}};
      for (uint32_t v : {1u, 2u, 3u, 4u}) {
        if (v == u) continue;
        SecretKey agreed =
            *X25519Agree(parties_.at(u).masking.private_key, parties_.at(v).masking.public_key);
        terms.push_back({*PairwiseMaskSeed(agreed, session_, 7), PairSign(u, v)});
      }
      ASSERT_TRUE(ApplyMasks(terms, 32, 0, absl::MakeSpan(masked)).ok());
      ReduceModulo(absl::MakeSpan(masked), 32);
      for (size_t i = 0; i < 5; ++i) sum[i] += masked[i];
    }
    auto shares = UnmaskingShares::Create(round_->graph.ids(), 4);
    ASSERT_TRUE(shares.ok()) << shares.status();
    state_ = std::make_unique<ServerUnmaskingState>(
        round_, std::set<uint32_t>{1, 2, 3}, session_, testing::KeyMap(parties_),
        std::set<uint32_t>{1, 2, 3, 4}, sum, std::set<uint32_t>{1, 2, 3}, *std::move(shares));
  }

  // Holder h's honest response.
  v1::SecAggClientToServer Response(uint32_t h) const {
    auto m = testing::ClientMessage(7, session_);
    auto* r = m.mutable_unmasking_response();
    for (uint32_t owner : {1u, 2u, 3u}) {
      auto* s = r->add_self_mask_shares();
      s->set_owner_id(owner);
      for (uint64_t v : shares_.at(owner).self_mask.at(h).values) s->add_values(v);
    }
    auto* k = r->add_masking_key_shares();
    k->set_owner_id(4);
    for (uint64_t v : shares_.at(4).masking_key.at(h).values) k->add_values(v);
    return m;
  }

  ServerConfig config_;
  std::shared_ptr<const ServerRound> round_;
  std::map<uint32_t, testing::Party> parties_;
  Bytes session_;
  std::map<uint32_t, testing::PartyShares> shares_;
  std::vector<int64_t> expected_ = std::vector<int64_t>(5, 0);
  std::unique_ptr<ServerUnmaskingState> state_;
};

TEST_F(ServerUnmaskingStateTest, RemovesEveryMaskAndReturnsTheExactSum) {
  for (uint32_t h : {1u, 2u, 3u}) ASSERT_TRUE(state_->HandleClientMessage(h, Response(h)).ok());
  auto t = state_->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ServerPhase::kCompleted);
  ASSERT_TRUE(t->outcome.result.has_value());
  EXPECT_TRUE(t->outcome.messages.empty());
  EXPECT_EQ(t->outcome.result->quantized_sum, expected_);
  EXPECT_EQ(t->outcome.result->survivor_ids, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(t->outcome.result->total_weight, 3.0);
  EXPECT_DOUBLE_EQ(t->outcome.result->weighted_sum[0], 60.0 / 1024);
}

TEST_F(ServerUnmaskingStateTest, RejectsMalformedResponsesAndChangesNothing) {
  auto not_asked = Response(1);
  not_asked.mutable_unmasking_response()->mutable_masking_key_shares(0)->set_owner_id(2);
  EXPECT_EQ(state_->HandleClientMessage(1, not_asked).code(), absl::StatusCode::kInvalidArgument);
  auto twice = Response(1);
  *twice.mutable_unmasking_response()->add_self_mask_shares() =
      twice.unmasking_response().self_mask_shares(0);
  EXPECT_EQ(state_->HandleClientMessage(1, twice).code(), absl::StatusCode::kInvalidArgument);
  auto short_share = Response(1);
  short_share.mutable_unmasking_response()
      ->mutable_self_mask_shares(1)
      ->mutable_values()
      ->RemoveLast();
  EXPECT_EQ(state_->HandleClientMessage(1, short_share).code(), absl::StatusCode::kInvalidArgument);
  auto outside_field = Response(1);
  outside_field.mutable_unmasking_response()->mutable_self_mask_shares(2)->set_values(0,
                                                                                      kShamirPrime);
  EXPECT_EQ(state_->HandleClientMessage(1, outside_field).code(),
            absl::StatusCode::kInvalidArgument);
  auto out_of_phase = testing::ClientMessage(7, session_);
  out_of_phase.mutable_share_keys();
  EXPECT_EQ(state_->HandleClientMessage(1, out_of_phase).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state_->HandleClientMessage(4, Response(1)).code(),
            absl::StatusCode::kFailedPrecondition);  // 4 sent no masked input
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{1, 2, 3}));

  // The honest responses still complete the round exactly.
  for (uint32_t h : {1u, 2u, 3u}) ASSERT_TRUE(state_->HandleClientMessage(h, Response(h)).ok());
  EXPECT_EQ(state_->HandleClientMessage(2, Response(2)).code(), absl::StatusCode::kAlreadyExists);
  auto t = state_->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->outcome.result->quantized_sum, expected_);
}

TEST_F(ServerUnmaskingStateTest, CorruptedMaskingKeySharesAreDataLoss) {
  for (uint32_t h : {1u, 2u, 3u}) {
    auto m = Response(h);
    auto* values = m.mutable_unmasking_response()->mutable_masking_key_shares(0)->mutable_values();
    values->Set(2, (values->Get(2) + 1) % kShamirPrime);
    ASSERT_TRUE(state_->HandleClientMessage(h, m).ok());
  }
  EXPECT_EQ(state_->Advance().status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ServerUnmaskingStateTest, TooFewResponsesAbort) {
  ASSERT_TRUE(state_->HandleClientMessage(1, Response(1)).ok());
  ASSERT_TRUE(state_->HandleClientMessage(2, Response(2)).ok());
  EXPECT_EQ(state_->Advance().status().code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace tacit::secagg
