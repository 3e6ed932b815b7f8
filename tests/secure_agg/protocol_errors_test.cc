// Rejections with distinct errors: unknown clients, out-of-phase, duplicate,
// wrong round/session, tampered ciphertexts, malformed content, refusal to
// reveal both secrets, and failure below the threshold.

#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/server.h"

namespace tacit::secagg {
namespace {

using v1::SecAggClientToServer;
using v1::SecAggServerToClient;

// A five-client complete-graph round driven step by step.
class ManualRound : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.round_id = 77;
    cfg_.cohort_ids = {1, 2, 3, 4, 5};
    cfg_.threshold = 3;
    cfg_.bits = 32;
    cfg_.clip_bound = 1.0;
    cfg_.scale = 1024;
    cfg_.vector_length = 8;
    auto server = SecAggServer::Create(cfg_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    for (uint32_t id : cfg_.cohort_ids) {
      ClientConfig cc;
      cc.client_id = id;
      // These rounds exercise the server's checks at t = 3 of 5, a majority
      // but below the default active-security policy (two thirds).
      cc.min_threshold_fraction = 0.5;
      cc.on_quantized_input = [this, id](const std::vector<int64_t>& q) { quantized_[id] = q; };
      clients_[id] = *SecAggClient::Create(cc, std::vector<float>(8, 0.25f * id), 1.0);
    }
    auto start = server_->AdvancePhase();
    ASSERT_TRUE(start.ok());
    outbox_ = start->messages.ToMap();  // objects: the tests tamper with them
  }

  // Delivers the outbox to `ids`, collecting replies (not yet given to the server).
  std::map<uint32_t, SecAggClientToServer> Deliver(const std::set<uint32_t>& ids) {
    std::map<uint32_t, SecAggClientToServer> replies;
    for (uint32_t id : ids) {
      auto reply = clients_[id]->HandleServerMessage(outbox_.at(id));
      EXPECT_TRUE(reply.ok()) << reply.status();
      if (reply.ok()) replies[id] = *reply;
    }
    return replies;
  }
  void Submit(const std::map<uint32_t, SecAggClientToServer>& replies) {
    for (const auto& [id, m] : replies) ASSERT_TRUE(server_->HandleClientMessage(id, m).ok());
  }
  void Advance() {
    auto next = server_->AdvancePhase();
    ASSERT_TRUE(next.ok()) << next.status();
    outbox_ = next->messages.ToMap();
  }
  // Runs one full phase for everyone in the outbox.
  void Step() {
    std::set<uint32_t> ids;
    for (const auto& [id, m] : outbox_) ids.insert(id);
    Submit(Deliver(ids));
    Advance();
  }

  ServerConfig cfg_;
  std::unique_ptr<SecAggServer> server_;
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients_;
  std::map<uint32_t, std::vector<int64_t>> quantized_;
  std::map<uint32_t, SecAggServerToClient> outbox_;
};

TEST_F(ManualRound, ServerRejectsWithDistinctCodesAndStaysUsable) {
  auto replies = Deliver({1, 2, 3, 4, 5});
  // Unknown client.
  EXPECT_EQ(server_->HandleClientMessage(99, replies[1]).code(), absl::StatusCode::kNotFound);
  // Out of phase: a masked input during key advertisement.
  SecAggClientToServer early;
  early.set_round_id(77);
  early.mutable_masked_input()->set_length(9);
  EXPECT_EQ(server_->HandleClientMessage(1, early).code(), absl::StatusCode::kFailedPrecondition);
  // Wrong round.
  auto wrong_round = replies[1];
  wrong_round.set_round_id(78);
  EXPECT_EQ(server_->HandleClientMessage(1, wrong_round).code(),
            absl::StatusCode::kUnauthenticated);
  // Malformed key.
  auto short_key = replies[1];
  short_key.mutable_advertise_keys()->set_masking_public_key("abc");
  EXPECT_EQ(server_->HandleClientMessage(1, short_key).code(), absl::StatusCode::kInvalidArgument);
  // Accepted once, duplicate rejected.
  ASSERT_TRUE(server_->HandleClientMessage(1, replies[1]).ok());
  EXPECT_EQ(server_->HandleClientMessage(1, replies[1]).code(), absl::StatusCode::kAlreadyExists);
  replies.erase(1);
  Submit(replies);
  Advance();

  // Share keys: a wrong session id is rejected.
  replies = Deliver({1, 2, 3, 4, 5});
  auto wrong_session = replies[2];
  wrong_session.set_session_id(std::string(32, 'x'));
  EXPECT_EQ(server_->HandleClientMessage(2, wrong_session).code(),
            absl::StatusCode::kUnauthenticated);
  // A share addressed to a client outside the round is malformed.
  auto bad_share = replies[2];
  bad_share.mutable_share_keys()->mutable_shares(0)->set_recipient_id(42);
  EXPECT_EQ(server_->HandleClientMessage(2, bad_share).code(), absl::StatusCode::kInvalidArgument);
  Submit(replies);
  Advance();

  // Masked input: wrong length rejected without touching the sum.
  replies = Deliver({1, 2, 3, 4, 5});
  auto truncated = replies[3];
  truncated.mutable_masked_input()->mutable_packed()->resize(12);
  EXPECT_EQ(server_->HandleClientMessage(3, truncated).code(), absl::StatusCode::kInvalidArgument);
  Submit(replies);
  Advance();
  Step();  // consistency check
  Step();  // unmasking; the rejected messages changed nothing
  EXPECT_EQ(server_->phase(), ServerPhase::kCompleted);
}

TEST_F(ManualRound, FullRoundSumsAndDroppedClientCannotRejoin) {
  Step();  // advertise
  auto replies = Deliver({1, 2, 3, 4, 5});
  replies.erase(5);  // client 5 drops in share keys
  Submit(replies);
  Advance();
  auto masked = Deliver({1, 2, 3, 4});
  // A dropped client's later message is refused as such.
  SecAggClientToServer late = masked[1];
  EXPECT_EQ(server_->HandleClientMessage(5, late).code(), absl::StatusCode::kFailedPrecondition);
  masked.erase(4);  // client 4 drops after sharing: its masks must be removed
  Submit(masked);
  Advance();
  Step();  // consistency check
  auto unmask = Deliver({1, 2, 3});
  Submit(unmask);
  auto done = server_->AdvancePhase();
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_TRUE(done->result.has_value());
  EXPECT_EQ(done->result->survivor_ids, (std::vector<uint32_t>{1, 2, 3}));
  std::vector<int64_t> expected(9, 0);
  for (uint32_t id : {1u, 2u, 3u}) {
    for (size_t i = 0; i < 9; ++i) expected[i] += quantized_[id][i];
  }
  EXPECT_EQ(done->result->quantized_sum, expected);
  EXPECT_NEAR(done->result->weighted_sum[0], 0.25 * (1 + 2 + 3), 1e-9);
  EXPECT_NEAR(done->result->total_weight, 3.0, 1e-9);
  EXPECT_EQ(server_->phase(), ServerPhase::kCompleted);
  EXPECT_EQ(server_->HandleClientMessage(1, unmask[1]).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ManualRound, ConcurrentSubmissionsFromTransportThreads) {
  for (int phase = 0; phase < kPhaseCount; ++phase) {
    auto replies = Deliver({1, 2, 3, 4, 5});
    std::vector<std::thread> threads;
    std::vector<absl::Status> results(replies.size());
    size_t i = 0;
    for (const auto& [id, m] : replies) {
      threads.emplace_back([&, i, id = id] { results[i] = server_->HandleClientMessage(id, m); });
      ++i;
    }
    for (auto& t : threads) t.join();
    for (const auto& st : results) ASSERT_TRUE(st.ok()) << st;
    if (phase < kPhaseCount - 1) Advance();
  }
  auto done = server_->AdvancePhase();
  ASSERT_TRUE(done.ok() && done->result.has_value()) << done.status();
  std::vector<int64_t> expected(9, 0);
  for (const auto& [id, q] : quantized_) {
    for (size_t j = 0; j < 9; ++j) expected[j] += q[j];
  }
  EXPECT_EQ(done->result->quantized_sum, expected);
}

TEST_F(ManualRound, TamperedShareCiphertextIsDetectedByTheRecipient) {
  Step();
  Step();
  auto& delivery = *outbox_.at(1).mutable_shares_delivery();
  ASSERT_GT(delivery.shares_size(), 0);
  (*delivery.mutable_shares(0)->mutable_ciphertext())[5] ^= 0x01;
  auto reply = clients_[1]->HandleServerMessage(outbox_.at(1));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDataLoss) << reply.status();
  EXPECT_EQ(clients_[1]->phase(), ClientPhase::kAborted);
  // A share re-labelled as coming from another neighbour fails too (AAD and key).
  auto& other = *outbox_.at(2).mutable_shares_delivery();
  const uint32_t real_sender = other.shares(0).sender_id();
  other.mutable_shares(0)->set_sender_id(other.shares(1).sender_id());
  other.mutable_shares(1)->set_sender_id(real_sender);
  EXPECT_EQ(clients_[2]->HandleServerMessage(outbox_.at(2)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(ManualRound, ClientRejectsWrongSessionAndRound) {
  Step();
  auto forged = outbox_.at(1);
  forged.set_session_id(std::string(32, 'z'));
  EXPECT_EQ(clients_[1]->HandleServerMessage(forged).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto other_round = outbox_.at(2);
  other_round.set_round_id(1234);
  EXPECT_EQ(clients_[2]->HandleServerMessage(other_round).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Out of phase at the client: a round start again is refused but harmless.
  SecAggServerToClient again;
  again.set_round_id(77);
  again.mutable_round_start();
  EXPECT_EQ(clients_[3]->HandleServerMessage(again).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(clients_[3]->phase(), ClientPhase::kAwaitingKeys);
}

TEST_F(ManualRound, ClientRefusesToRevealBothSecretsOfOneClient) {
  Step();
  Step();
  Step();
  Step();  // consistency check
  auto both = outbox_.at(1);
  both.mutable_unmasking_request()->add_dropped_ids(2);  // 2 is also a survivor
  EXPECT_EQ(clients_[1]->HandleServerMessage(both).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto self_dropped = outbox_.at(3);
  auto* req = self_dropped.mutable_unmasking_request();
  req->clear_survivor_ids();
  req->add_survivor_ids(1);
  req->add_dropped_ids(3);
  EXPECT_EQ(clients_[3]->HandleServerMessage(self_dropped).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The honest request is answered, and only once.
  auto ok = clients_[4]->HandleServerMessage(outbox_.at(4));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(clients_[4]->HandleServerMessage(outbox_.at(4)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ManualRound, FailsBelowThresholdAndRevealsNothing) {
  Step();
  Step();
  auto masked = Deliver({1, 2, 3, 4, 5});
  masked.erase(3);
  masked.erase(4);
  masked.erase(5);  // 2 of 5 masked inputs, threshold 3
  Submit(masked);
  auto next = server_->AdvancePhase();
  EXPECT_EQ(next.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(server_->phase(), ServerPhase::kFailed);
  EXPECT_TRUE(server_->PendingClients().empty());
  EXPECT_EQ(server_->AdvancePhase().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ManualRound, CorruptedKeySharesAreCaughtAgainstTheAdvertisedKey) {
  Step();
  Step();
  auto masked = Deliver({1, 2, 3, 4, 5});
  masked.erase(5);  // 5 shared keys but sent no input: its masking key is reconstructed
  Submit(masked);
  Advance();
  Step();  // consistency check
  auto unmask = Deliver({1, 2, 3, 4});
  // Every holder's share of 5's masking key is altered (still in the field).
  for (auto& [id, reply] : unmask) {
    auto* shares = reply.mutable_unmasking_response()->mutable_masking_key_shares();
    ASSERT_EQ(shares->size(), 1);
    shares->Mutable(0)->set_values(0, (shares->Get(0).values(0) + id) % ((1ull << 61) - 1));
  }
  // A share for a client that was not asked about is malformed.
  auto extra = unmask[1];
  auto* bogus = extra.mutable_unmasking_response()->add_self_mask_shares();
  bogus->set_owner_id(5);
  EXPECT_EQ(server_->HandleClientMessage(1, extra).code(), absl::StatusCode::kInvalidArgument);
  Submit(unmask);
  auto done = server_->AdvancePhase();
  EXPECT_EQ(done.status().code(), absl::StatusCode::kDataLoss) << done.status();
  EXPECT_EQ(server_->phase(), ServerPhase::kFailed);
}

// Self-mask seeds have no public key to check against. With more holders
// answering than the threshold, one corrupted share makes two threshold
// subsets disagree: the round fails with DataLoss instead of a wrong sum.
TEST_F(ManualRound, ACorruptedSelfMaskShareIsCaughtWithMoreHoldersThanTheThreshold) {
  Step();
  Step();
  Step();  // every client sent its masked input: 5 self-mask seeds to remove
  Step();  // consistency check
  auto unmask = Deliver({1, 2, 3, 4, 5});
  auto* shares = unmask[4].mutable_unmasking_response()->mutable_self_mask_shares();
  ASSERT_GE(shares->size(), 2);
  // Holder 4 alters its share of client 2's seed (still in the field).
  for (auto& share : *shares) {
    if (share.owner_id() == 2) share.set_values(0, (share.values(0) + 1) % ((1ull << 61) - 1));
  }
  Submit(unmask);
  auto done = server_->AdvancePhase();
  EXPECT_EQ(done.status().code(), absl::StatusCode::kDataLoss) << done.status();
  EXPECT_NE(done.status().message().find("client 2"), std::string::npos) << done.status();
  EXPECT_EQ(server_->phase(), ServerPhase::kFailed);
}

TEST_F(ManualRound, HonestSharesFromEveryHolderStillSumExactly) {
  Step();
  Step();
  Step();
  Step();  // consistency check
  Submit(Deliver({1, 2, 3, 4, 5}));
  auto done = server_->AdvancePhase();
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_TRUE(done->result.has_value());
  std::vector<int64_t> expected(quantized_.at(1).size(), 0);
  for (const auto& [id, q] : quantized_) {
    for (size_t i = 0; i < q.size(); ++i) expected[i] += q[i];
  }
  EXPECT_EQ(done->result->quantized_sum, expected);
}

TEST(ServerConfigCheck, RejectsWrappingAndBadThresholds) {
  ServerConfig cfg;
  cfg.cohort_ids = {1, 2, 3, 4};
  cfg.vector_length = 4;
  cfg.threshold = 3;
  cfg.bits = 16;
  cfg.scale = 1 << 14;  // 4 clients x 2^14 > 2^15
  EXPECT_EQ(SecAggServer::Create(cfg).status().code(), absl::StatusCode::kInvalidArgument);
  cfg.scale = 1 << 10;
  auto ok = SecAggServer::Create(cfg);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_GT((*ok)->no_wrap_report().headroom_bits, 0);
  cfg.threshold = 5;
  EXPECT_FALSE(SecAggServer::Create(cfg).ok());
  cfg.threshold = 1;
  EXPECT_FALSE(SecAggServer::Create(cfg).ok());
  cfg.threshold = 3;
  cfg.cohort_ids = {1, 2, 2, 4};
  EXPECT_FALSE(SecAggServer::Create(cfg).ok());
}

TEST(ClientPolicy, RefusesThresholdTooLowForItsHolders) {
  ServerConfig cfg;
  cfg.round_id = 5;
  cfg.cohort_ids = {1, 2, 3, 4, 5, 6};
  cfg.threshold = 2;  // 2 of 6 holders is not a majority
  cfg.vector_length = 2;
  cfg.scale = 16;
  auto server = SecAggServer::Create(cfg);
  ASSERT_TRUE(server.ok());
  auto start = (*server)->AdvancePhase();
  ASSERT_TRUE(start.ok());
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
  for (uint32_t id : cfg.cohort_ids) {
    ClientConfig cc;
    cc.client_id = id;
    clients[id] = *SecAggClient::Create(cc, {0.f, 0.f}, 1.0);
    auto reply = clients[id]->HandleServerMessage(*start->messages.Get(id));
    ASSERT_TRUE(reply.ok());
    ASSERT_TRUE((*server)->HandleClientMessage(id, *reply).ok());
  }
  auto keys = (*server)->AdvancePhase();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(clients[1]->HandleServerMessage(*keys->messages.Get(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tacit::secagg
