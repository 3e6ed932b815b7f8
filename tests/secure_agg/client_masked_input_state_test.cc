// ClientMaskedInputState alone: it opens the delivered shares, and its masked
// input is exactly quantized input + self mask + signed pairwise masks, with
// the rounding key from the config or the injected source. Tampered,
// malformed and out-of-phase deliveries are rejected with the documented codes.

#include "secure_agg/client/masked_input_state.h"

#include "secure_agg/client/consistency_check_state.h"

#include <cstring>

#include "gtest/gtest.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/masking.h"
#include "tests/secure_agg/state_test_support.h"

namespace tacit::secagg {
namespace {

using testing::Party;

constexpr uint64_t kLength = 6;

class ClientMaskedInputStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parties_ = testing::MakeParties(4, 21);
    params_ = testing::Params(9, 3, 4, kLength);
    ctx_ = testing::ContextFor(parties_.at(1), parties_, params_);
    testing::AddBroadcast(ctx_, parties_);
    auto split_random = testing::Seeded(22, "split");
    shares_ = testing::SplitAll(parties_, 3, *split_random);
    MakeState();
  }

  void MakeState() {
    env_ = std::make_shared<ClientEnvironment>();
    env_->config.client_id = 1;
    env_->config.on_quantized_input = [this](const std::vector<int64_t>& q) { quantized_ = q; };
    env_->input = [] {
      return absl::StatusOr<std::vector<float>>(
          std::vector<float>{0.5f, -0.25f, 0.125f, 1.5f, -2.0f, 0.0f});
    };
    env_->weight = 0.75;
    env_->random = testing::Seeded(23, "client-1");
    DecodedShares own{shares_.at(1).self_mask.at(1), shares_.at(1).masking_key.at(1)};
    state_ = std::make_unique<ClientMaskedInputState>(env_, ctx_, own);
  }

  v1::SecAggServerToClient Delivery(std::set<uint32_t> from = {2, 3, 4}) const {
    v1::SecAggServerToClient m = testing::ServerMessage(ctx_);
    auto nonces = testing::Seeded(24, "nonces");
    for (uint32_t sender : from) {
      *m.mutable_shares_delivery()->add_shares() = testing::SealShare(
          parties_.at(sender), parties_.at(1), ctx_, shares_.at(sender).self_mask.at(1),
          shares_.at(sender).masking_key.at(1), *nonces);
    }
    return m;
  }

  // quantized + PRG(self) + sum over neighbours of sign * PRG(pair seed).
  std::vector<uint32_t> ExpectedMasked(const std::vector<int64_t>& quantized) const {
    std::vector<MaskTerm> terms{{parties_.at(1).self_mask_seed, 1}};
    for (uint32_t peer : {2u, 3u, 4u}) {
      SecretKey agreed =
          *X25519Agree(parties_.at(peer).masking.private_key, parties_.at(1).masking.public_key);
      terms.push_back({*PairwiseMaskSeed(agreed, ctx_.session_id, 9), PairSign(1, peer)});
    }
    std::vector<uint64_t> values(quantized.size());
    for (size_t i = 0; i < quantized.size(); ++i) values[i] = ToModular(quantized[i], 32);
    EXPECT_TRUE(ApplyMasks(terms, 32, 0, absl::MakeSpan(values)).ok());
    ReduceModulo(absl::MakeSpan(values), 32);
    return std::vector<uint32_t>(values.begin(), values.end());
  }

  // The wire packs 32-bit residues at exactly 32 bits, so the size fixes the count.
  static std::vector<uint32_t> Unpack(const std::string& packed) {
    auto values = UnpackResidues(AsBytes(packed), packed.size() / 4, 32);
    EXPECT_TRUE(values.ok()) << values.status();
    if (!values.ok()) return {};
    return std::vector<uint32_t>(values->begin(), values->end());
  }

  std::map<uint32_t, Party> parties_;
  v1::SecAggRoundParameters params_;
  RoundContext ctx_;
  std::map<uint32_t, testing::PartyShares> shares_;
  std::shared_ptr<ClientEnvironment> env_;
  std::unique_ptr<ClientMaskedInputState> state_;
  std::vector<int64_t> quantized_;
};

TEST_F(ClientMaskedInputStateTest, MasksTheQuantizedInputExactly) {
  auto t = state_->Handle(Delivery());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ClientPhase::kAwaitingConsistencyCheck);
  ASSERT_EQ(quantized_.size(), kLength + 1);
  // The rounding key is the next draw of the client's source after nothing
  // else: the same quantization results from it directly.
  auto random = testing::Seeded(23, "client-1");
  SecretKey rounding_key = *DrawSecretKey(*random);
  auto expected_q = QuantizeWeighted(FixedPointParams{32, 1.0, 1024, 1.0},
                                     std::vector<float>{0.5f, -0.25f, 0.125f, 1.5f, -2.0f, 0.0f},
                                     0.75, rounding_key);
  ASSERT_TRUE(expected_q.ok());
  EXPECT_EQ(quantized_, *expected_q);
  EXPECT_EQ(quantized_.back(), 768);  // weight 0.75 * scale 1024, exact
  EXPECT_EQ(t->reply.masked_input().length(), kLength + 1);
  EXPECT_EQ(Unpack(t->reply.masked_input().packed()), ExpectedMasked(quantized_));
  EXPECT_EQ(t->reply.session_id(), ToString(ctx_.session_id));

  // The next state holds the shares of all four clients, and no key.
  auto* unmasking = dynamic_cast<const ClientConsistencyCheckState*>(t->next.get());
  ASSERT_NE(unmasking, nullptr);
  std::set<uint32_t> owners;
  for (const auto& [owner, unused] : unmasking->held().by_owner) owners.insert(owner);
  EXPECT_EQ(owners, (std::set<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(unmasking->held().by_owner.at(3).self_mask.values,
            shares_.at(3).self_mask.at(1).values);
  const SecretKey zero;
  EXPECT_TRUE(
      ConstantTimeEquals(unmasking->context().masking_keys.private_key.span(), zero.span()));
  EXPECT_TRUE(ConstantTimeEquals(unmasking->context().self_mask_seed.span(), zero.span()));
}

TEST_F(ClientMaskedInputStateTest, UsesTheConfiguredRoundingKey) {
  std::array<uint8_t, 32> key{};
  key.fill(3);
  env_->config.rounding_key = key;
  auto t = state_->Handle(Delivery());
  ASSERT_TRUE(t.ok()) << t.status();
  auto expected_q = QuantizeWeighted(FixedPointParams{32, 1.0, 1024, 1.0},
                                     std::vector<float>{0.5f, -0.25f, 0.125f, 1.5f, -2.0f, 0.0f},
                                     0.75, SecretKey(key));
  EXPECT_EQ(quantized_, *expected_q);
}

TEST_F(ClientMaskedInputStateTest, RejectsWithDocumentedCodes) {
  auto out_of_phase = testing::ServerMessage(ctx_);
  out_of_phase.mutable_unmasking_request();
  EXPECT_EQ(state_->Handle(out_of_phase).status().code(), absl::StatusCode::kFailedPrecondition);

  auto wrong_session = Delivery();
  wrong_session.set_session_id(std::string(32, 's'));
  EXPECT_EQ(state_->Handle(wrong_session).status().code(), absl::StatusCode::kUnauthenticated);

  auto tampered = Delivery();
  (*tampered.mutable_shares_delivery()->mutable_shares(1)->mutable_ciphertext())[3] ^= 0x40;
  EXPECT_EQ(state_->Handle(tampered).status().code(), absl::StatusCode::kDataLoss);

  // Relabelled as another neighbour's: opened with the wrong key and AAD.
  auto relabelled = Delivery();
  relabelled.mutable_shares_delivery()->mutable_shares(0)->set_sender_id(3);
  EXPECT_EQ(state_->Handle(relabelled).status().code(), absl::StatusCode::kDataLoss);

  auto twice = Delivery();
  *twice.mutable_shares_delivery()->add_shares() = twice.shares_delivery().shares(0);
  EXPECT_EQ(state_->Handle(twice).status().code(), absl::StatusCode::kInvalidArgument);

  auto misaddressed = Delivery();
  misaddressed.mutable_shares_delivery()->mutable_shares(0)->set_recipient_id(2);
  EXPECT_EQ(state_->Handle(misaddressed).status().code(), absl::StatusCode::kInvalidArgument);

  auto stranger = Delivery();
  stranger.mutable_shares_delivery()->mutable_shares(0)->set_sender_id(42);
  EXPECT_EQ(state_->Handle(stranger).status().code(), absl::StatusCode::kInvalidArgument);

  // Threshold 3 needs two neighbours' shares besides its own.
  EXPECT_EQ(state_->Handle(Delivery({2})).status().code(), absl::StatusCode::kAborted);

  // None of these consumed the input: the real delivery still masks it.
  EXPECT_TRUE(quantized_.empty());
  auto t = state_->Handle(Delivery());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Unpack(t->reply.masked_input().packed()), ExpectedMasked(quantized_));
}

TEST_F(ClientMaskedInputStateTest, RejectsAnInputOfTheWrongLength) {
  env_->input = [] { return absl::StatusOr<std::vector<float>>(std::vector<float>(3, 0.f)); };
  EXPECT_EQ(state_->Handle(Delivery()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientMaskedInputStateTest, OnlyNeighboursThatSharedArePairMasked) {
  // 4 dropped before sharing: no share from it, so no pairwise mask with it.
  auto t = state_->Handle(Delivery({2, 3}));
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<MaskTerm> terms{{parties_.at(1).self_mask_seed, 1}};
  for (uint32_t peer : {2u, 3u}) {
    SecretKey agreed =
        *X25519Agree(parties_.at(peer).masking.private_key, parties_.at(1).masking.public_key);
    terms.push_back({*PairwiseMaskSeed(agreed, ctx_.session_id, 9), PairSign(1, peer)});
  }
  std::vector<uint64_t> values(quantized_.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = ToModular(quantized_[i], 32);
  ASSERT_TRUE(ApplyMasks(terms, 32, 0, absl::MakeSpan(values)).ok());
  ReduceModulo(absl::MakeSpan(values), 32);
  EXPECT_EQ(Unpack(t->reply.masked_input().packed()),
            std::vector<uint32_t>(values.begin(), values.end()));
}

}  // namespace
}  // namespace tacit::secagg
