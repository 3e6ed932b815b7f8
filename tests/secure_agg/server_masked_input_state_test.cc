// ServerMaskedInputState alone: masked inputs are added to one running sum as
// they arrive, malformed ones leave it untouched, Advance() shows every
// survivor the same list to sign, and after the consistency check each client
// is asked for the right shares (self masks of survivors, masking keys of
// clients that shared but sent no input).

#include "secure_agg/server/masked_input_state.h"

#include <cstring>

#include "gtest/gtest.h"
#include "secure_agg/server/consistency_check_state.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

class ServerMaskedInputStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    round_ = testing::MakeRound(testing::SmallConfig());
    session_ = Bytes(32, 0x22);
    state_ = std::make_unique<ServerMaskedInputState>(
        round_, std::set<uint32_t>{1, 2, 3, 4}, session_,
        testing::KeyMap(testing::MakeParties(5, 71)), std::set<uint32_t>{1, 2, 3, 4});
  }
  // A masked input of `words` packed at `bits` bits per element, as clients send.
  v1::SecAggClientToServer Masked(std::vector<uint64_t> words, uint32_t bits = 32) const {
    auto m = testing::ClientMessage(7, session_);
    m.mutable_masked_input()->set_length(words.size());
    auto packed = PackResidues(words, bits);
    EXPECT_TRUE(packed.ok()) << packed.status();
    if (packed.ok()) m.mutable_masked_input()->set_packed(ToString(*packed));
    return m;
  }

  // Ends the masked-input phase and the consistency check, with every
  // survivor signing (the round runs unsigned: no verifier).
  absl::StatusOr<ServerState::Transition> AdvanceThroughConsistencyCheck() {
    auto check = state_->Advance();
    if (!check.ok()) return check.status();
    for (const auto& [id, unused] : check->outcome.messages.ToMap()) {
      auto m = testing::ClientMessage(7, session_);
      m.mutable_consistency_response();
      if (absl::Status s = check->next->HandleClientMessage(id, m); !s.ok()) return s;
    }
    return check->next->Advance();
  }

  std::shared_ptr<const ServerRound> round_;
  Bytes session_;
  std::unique_ptr<ServerMaskedInputState> state_;
};

TEST_F(ServerMaskedInputStateTest, AddsInputsAsTheyArrive) {
  ASSERT_TRUE(state_->HandleClientMessage(1, Masked({1, 2, 3, 4, 0xffffffffu})).ok());
  ASSERT_TRUE(state_->HandleClientMessage(3, Masked({10, 20, 30, 40, 2})).ok());
  EXPECT_EQ(state_->masked_sum(),
            (std::vector<uint64_t>{11, 22, 33, 44, uint64_t{0xffffffffu} + 2}));
  ASSERT_TRUE(state_->HandleClientMessage(4, Masked({0, 0, 0, 0, 0})).ok());
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{2}));
  auto check = state_->Advance();  // 2 shared keys but sent no input
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->next->phase(), ServerPhase::kConsistencyCheck);
  ASSERT_EQ(check->outcome.messages.size(), 3u);
  for (const auto& [id, m] : check->outcome.messages.ToMap()) {
    const auto& list = m.consistency_check().survivor_ids();
    EXPECT_EQ(std::vector<uint32_t>(list.begin(), list.end()), (std::vector<uint32_t>{1, 3, 4}))
        << "client " << id << " was shown another list";
  }
  for (uint32_t id : {1u, 3u, 4u}) {
    auto m = testing::ClientMessage(7, session_);
    m.mutable_consistency_response();
    ASSERT_TRUE(check->next->HandleClientMessage(id, m).ok());
  }
  auto t = check->next->Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ServerPhase::kUnmasking);
  ASSERT_EQ(t->outcome.messages.size(), 3u);
  const auto r = t->outcome.messages.Get(3)->unmasking_request();
  EXPECT_EQ(std::vector<uint32_t>(r.survivor_ids().begin(), r.survivor_ids().end()),
            (std::vector<uint32_t>{1, 3, 4}));
  EXPECT_EQ(std::vector<uint32_t>(r.dropped_ids().begin(), r.dropped_ids().end()),
            (std::vector<uint32_t>{2}));
  EXPECT_EQ(t->next->PendingClients(), (std::vector<uint32_t>{1, 3, 4}));
}

TEST_F(ServerMaskedInputStateTest, ClientsThatNeverSharedAreNotAskedAbout) {
  // 5 advertised but never shared keys: nobody holds its shares.
  ASSERT_TRUE(state_->HandleClientMessage(1, Masked({0, 0, 0, 0, 0})).ok());
  ASSERT_TRUE(state_->HandleClientMessage(2, Masked({0, 0, 0, 0, 0})).ok());
  ASSERT_TRUE(state_->HandleClientMessage(3, Masked({0, 0, 0, 0, 0})).ok());
  auto t = AdvanceThroughConsistencyCheck();
  ASSERT_TRUE(t.ok()) << t.status();
  const auto r = t->outcome.messages.Get(1)->unmasking_request();
  EXPECT_EQ(r.survivor_ids_size(), 3);
  EXPECT_EQ(std::vector<uint32_t>(r.dropped_ids().begin(), r.dropped_ids().end()),
            (std::vector<uint32_t>{4}));
}

TEST_F(ServerMaskedInputStateTest, RejectsMalformedInputsWithoutTouchingTheSum) {
  ASSERT_TRUE(state_->HandleClientMessage(1, Masked({5, 5, 5, 5, 5})).ok());
  const std::vector<uint64_t> before = state_->masked_sum();
  EXPECT_EQ(state_->HandleClientMessage(2, Masked({1, 2, 3, 4})).code(),
            absl::StatusCode::kInvalidArgument);  // length 4, want 5
  auto truncated = Masked({1, 2, 3, 4, 5});
  truncated.mutable_masked_input()->mutable_packed()->resize(19);
  EXPECT_EQ(state_->HandleClientMessage(2, truncated).code(), absl::StatusCode::kInvalidArgument);
  auto wrong_session = Masked({1, 2, 3, 4, 5});
  wrong_session.set_session_id("");
  EXPECT_EQ(state_->HandleClientMessage(2, wrong_session).code(),
            absl::StatusCode::kUnauthenticated);
  auto out_of_phase = testing::ClientMessage(7, session_);
  out_of_phase.mutable_unmasking_response();
  EXPECT_EQ(state_->HandleClientMessage(2, out_of_phase).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state_->HandleClientMessage(5, Masked({1, 2, 3, 4, 5})).code(),
            absl::StatusCode::kFailedPrecondition);  // dropped before
  EXPECT_EQ(state_->HandleClientMessage(1, Masked({1, 2, 3, 4, 5})).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(state_->masked_sum(), before);
  EXPECT_EQ(state_->PendingClients(), (std::vector<uint32_t>{2, 3, 4}));
}

// At 20 bits, 5 elements fill 100 bits: 13 bytes whose last 4 bits are
// padding. A crafted input with a padding bit set, or one byte too many or
// too few, is refused and the sum stays as it was.
TEST_F(ServerMaskedInputStateTest, RejectsWrongPackedSizeAndNonzeroPaddingAt20Bits) {
  auto config = testing::SmallConfig();
  config.bits = 20;
  config.scale = 16;
  ServerMaskedInputState state(testing::MakeRound(config), {1, 2, 3}, session_, {}, {1, 2, 3});
  const std::vector<uint64_t> words = {1, 2, 3, 0xfffff, 5};
  auto padded = Masked(words, 20);
  ASSERT_EQ(padded.masked_input().packed().size(), 13u);
  padded.mutable_masked_input()->mutable_packed()->back() |= 0x10;
  absl::Status refused = state.HandleClientMessage(1, padded);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("padding"), std::string::npos) << refused;
  auto longer = Masked(words, 20);
  longer.mutable_masked_input()->mutable_packed()->push_back('\0');
  EXPECT_EQ(state.HandleClientMessage(1, longer).code(), absl::StatusCode::kInvalidArgument);
  auto shorter = Masked(words, 20);
  shorter.mutable_masked_input()->mutable_packed()->pop_back();
  EXPECT_EQ(state.HandleClientMessage(1, shorter).code(), absl::StatusCode::kInvalidArgument);
  auto at_32_bits = Masked(words, 32);  // the old 4-byte layout
  EXPECT_EQ(state.HandleClientMessage(1, at_32_bits).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state.masked_sum(), std::vector<uint64_t>(5, 0));
  EXPECT_TRUE(state.HandleClientMessage(1, Masked(words, 20)).ok());
  EXPECT_EQ(state.masked_sum(), words);
}

TEST_F(ServerMaskedInputStateTest, FailsBelowThresholdWithAborted) {
  ASSERT_TRUE(state_->HandleClientMessage(1, Masked({0, 0, 0, 0, 0})).ok());
  ASSERT_TRUE(state_->HandleClientMessage(2, Masked({0, 0, 0, 0, 0})).ok());
  EXPECT_EQ(state_->Advance().status().code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace tacit::secagg
