// ServerShareKeysState alone: each client must address exactly one share of
// the right size to every advertised neighbour; shares are held in 128-byte
// records and delivered byte for byte, only from clients that completed the
// phase, and freed as the deliveries are built.

#include "secure_agg/server/share_keys_state.h"

#include "gtest/gtest.h"
#include "secure_agg/server/masked_input_state.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

class ServerShareKeysStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    round_ = testing::MakeRound(testing::SmallConfig());
    parties_ = testing::MakeParties(5, 61);
    session_ = Bytes(32, 0x5e);
    state_ = std::make_unique<ServerShareKeysState>(round_, std::set<uint32_t>{1, 2, 3, 4, 5},
                                                    session_, testing::KeyMap(parties_), Spool());
  }
  static std::shared_ptr<ShareSpool> Spool() {
    auto spool = ShareSpool::Create();
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? *spool : nullptr;
  }
  // Opaque share bytes the server only stores and forwards.
  static std::string Fill(uint32_t from, uint32_t to, size_t n, char salt) {
    std::string s(n, salt);
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(from * 31 + to * 7 + i + salt);
    return s;
  }
  v1::SecAggClientToServer Shares(uint32_t from) const {
    auto m = testing::ClientMessage(7, session_);
    for (uint32_t to = 1; to <= 5; ++to) {
      if (to == from) continue;
      auto* s = m.mutable_share_keys()->add_shares();
      s->set_sender_id(from);
      s->set_recipient_id(to);
      s->set_nonce(Fill(from, to, kGcmNonceBytes, 'n'));
      s->set_ciphertext(Fill(from, to, kShareCiphertextBytes, 'c'));
    }
    return m;
  }

  std::shared_ptr<const ServerRound> round_;
  std::map<uint32_t, testing::Party> parties_;
  Bytes session_;
  std::unique_ptr<ServerShareKeysState> state_;
};

TEST_F(ServerShareKeysStateTest, DeliversSharesOnlyFromClientsThatCompleted) {
  for (uint32_t id : {1u, 2u, 3u, 4u})
    ASSERT_TRUE(state_->HandleClientMessage(id, Shares(id)).ok());
  EXPECT_EQ(state_->HeldSharesFor(5), 4u);
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{5}));
  auto t = state_->Advance();  // 5 dropped: it gets nothing, its shares count for no one
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ServerPhase::kMaskedInput);
  EXPECT_EQ(t->next->PendingClients(), (std::vector<uint32_t>{1, 2, 3, 4}));
  ASSERT_EQ(t->outcome.messages.size(), 4u);
  EXPECT_EQ(state_->HeldSharesFor(1), 0u);  // freed once delivered
  const auto to3 = *t->outcome.messages.Get(3);
  EXPECT_EQ(to3.session_id(), ToString(session_));
  ASSERT_EQ(to3.shares_delivery().shares_size(), 3);
  for (const auto& s : to3.shares_delivery().shares()) {
    EXPECT_NE(s.sender_id(), 5u);
    EXPECT_EQ(s.recipient_id(), 3u);
    EXPECT_EQ(s.nonce(), Fill(s.sender_id(), 3, kGcmNonceBytes, 'n'));
    EXPECT_EQ(s.ciphertext(), Fill(s.sender_id(), 3, kShareCiphertextBytes, 'c'));
  }
  auto* next = dynamic_cast<ServerMaskedInputState*>(t->next.get());
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->masked_sum(), std::vector<uint64_t>(5, 0));
}

TEST_F(ServerShareKeysStateTest, RejectsMalformedSharesAndStoresNothing) {
  auto wrong_session = Shares(1);
  wrong_session.set_session_id(std::string(32, 'w'));
  EXPECT_EQ(state_->HandleClientMessage(1, wrong_session).code(),
            absl::StatusCode::kUnauthenticated);
  auto out_of_phase = testing::ClientMessage(7, session_);
  out_of_phase.mutable_advertise_keys();
  EXPECT_EQ(state_->HandleClientMessage(1, out_of_phase).code(),
            absl::StatusCode::kFailedPrecondition);
  auto claims_other = Shares(1);
  claims_other.mutable_share_keys()->mutable_shares(0)->set_sender_id(2);
  EXPECT_EQ(state_->HandleClientMessage(1, claims_other).code(),
            absl::StatusCode::kInvalidArgument);
  auto outsider = Shares(1);
  outsider.mutable_share_keys()->mutable_shares(0)->set_recipient_id(42);
  EXPECT_EQ(state_->HandleClientMessage(1, outsider).code(), absl::StatusCode::kInvalidArgument);
  auto twice = Shares(1);
  twice.mutable_share_keys()->mutable_shares(1)->set_recipient_id(2);
  EXPECT_EQ(state_->HandleClientMessage(1, twice).code(), absl::StatusCode::kInvalidArgument);
  auto missing = Shares(1);
  missing.mutable_share_keys()->mutable_shares()->RemoveLast();
  EXPECT_EQ(state_->HandleClientMessage(1, missing).code(), absl::StatusCode::kInvalidArgument);
  auto short_ct = Shares(1);
  short_ct.mutable_share_keys()->mutable_shares(2)->mutable_ciphertext()->pop_back();
  EXPECT_EQ(state_->HandleClientMessage(1, short_ct).code(), absl::StatusCode::kInvalidArgument);
  auto long_nonce = Shares(1);
  long_nonce.mutable_share_keys()->mutable_shares(2)->mutable_nonce()->push_back('x');
  EXPECT_EQ(state_->HandleClientMessage(1, long_nonce).code(), absl::StatusCode::kInvalidArgument);
  for (uint32_t to = 2; to <= 5; ++to) EXPECT_EQ(state_->HeldSharesFor(to), 0u);
  EXPECT_EQ(state_->PendingClients().size(), 5u);

  ASSERT_TRUE(state_->HandleClientMessage(1, Shares(1)).ok());
  EXPECT_EQ(state_->HandleClientMessage(1, Shares(1)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(state_->HeldSharesFor(2), 1u);
}

TEST_F(ServerShareKeysStateTest, ADroppedClientCannotRejoin) {
  ServerShareKeysState state(round_, {1, 2, 3, 4}, session_, testing::KeyMap(parties_), Spool());
  EXPECT_EQ(state.HandleClientMessage(5, Shares(5)).code(), absl::StatusCode::kFailedPrecondition);
  // And others need not (must not) share with it.
  auto without5 = Shares(1);
  without5.mutable_share_keys()->mutable_shares()->RemoveLast();
  EXPECT_TRUE(state.HandleClientMessage(1, without5).ok());
}

TEST_F(ServerShareKeysStateTest, FailsBelowThresholdWithAborted) {
  ASSERT_TRUE(state_->HandleClientMessage(1, Shares(1)).ok());
  ASSERT_TRUE(state_->HandleClientMessage(2, Shares(2)).ok());
  EXPECT_EQ(state_->Advance().status().code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace tacit::secagg
