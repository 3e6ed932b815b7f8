// ClientAdvertiseKeysState alone: a round start is checked against the
// client's policy, keys come from the injected randomness, and every rejected
// message leaves the state as it was.

#include "secure_agg/client/advertise_keys_state.h"

#include "gtest/gtest.h"
#include "tests/secure_agg/state_test_support.h"

namespace tacit::secagg {
namespace {

using testing::Params;
using testing::Seeded;

std::shared_ptr<ClientEnvironment> Env(uint32_t id, std::shared_ptr<RandomSource> random) {
  auto env = std::make_shared<ClientEnvironment>();
  env->config.client_id = id;
  env->input = [] { return absl::StatusOr<std::vector<float>>(std::vector<float>(4, 0.5f)); };
  env->weight = 1.0;
  env->random = std::move(random);
  return env;
}

v1::SecAggServerToClient RoundStart(uint32_t self) {
  v1::SecAggServerToClient m;
  m.set_round_id(9);
  auto* p = m.mutable_round_start()->mutable_parameters();
  *p = Params(9, 3, 4, 4);
  for (uint32_t id = 1; id <= 4; ++id) {
    if (id != self) p->add_neighbor_ids(id);
  }
  return m;
}

TEST(ClientAdvertiseKeysState, AdvertisesKeysDrawnFromTheInjectedSource) {
  ClientAdvertiseKeysState state(Env(1, Seeded(5, "c1")));
  EXPECT_EQ(state.phase(), ClientPhase::kAwaitingRoundStart);
  auto t = state.Handle(RoundStart(1));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_NE(t->next, nullptr);
  EXPECT_EQ(t->next->phase(), ClientPhase::kAwaitingKeys);
  EXPECT_EQ(t->reply.round_id(), 9u);
  EXPECT_TRUE(t->reply.session_id().empty());
  ASSERT_TRUE(t->reply.has_advertise_keys());

  // The same draws, in the documented order, from an identical source.
  auto random = Seeded(5, "c1");
  X25519KeyPair enc = *GenerateX25519KeyPair(*random);
  X25519KeyPair mask = *GenerateX25519KeyPair(*random);
  EXPECT_EQ(t->reply.advertise_keys().encryption_public_key(), ToString(enc.public_key));
  EXPECT_EQ(t->reply.advertise_keys().masking_public_key(), ToString(mask.public_key));
  EXPECT_NE(enc.public_key, mask.public_key);

  // Another seed gives other keys.
  ClientAdvertiseKeysState other(Env(1, Seeded(6, "c1")));
  auto t2 = other.Handle(RoundStart(1));
  ASSERT_TRUE(t2.ok());
  EXPECT_NE(t2->reply.advertise_keys().encryption_public_key(),
            t->reply.advertise_keys().encryption_public_key());
}

TEST(ClientAdvertiseKeysState, RejectsWithDocumentedCodesAndStaysUsable) {
  ClientAdvertiseKeysState state(Env(1, Seeded(5, "c1")));
  v1::SecAggServerToClient out_of_phase;
  out_of_phase.set_round_id(9);
  out_of_phase.mutable_keys_broadcast();
  EXPECT_EQ(state.Handle(out_of_phase).status().code(), absl::StatusCode::kFailedPrecondition);

  auto two_rounds = RoundStart(1);
  two_rounds.set_round_id(10);
  EXPECT_EQ(state.Handle(two_rounds).status().code(), absl::StatusCode::kUnauthenticated);

  auto low_threshold = RoundStart(1);
  low_threshold.mutable_round_start()->mutable_parameters()->set_threshold(1);
  EXPECT_EQ(state.Handle(low_threshold).status().code(), absl::StatusCode::kInvalidArgument);

  auto empty_vector = RoundStart(1);
  empty_vector.mutable_round_start()->mutable_parameters()->set_vector_length(0);
  EXPECT_EQ(state.Handle(empty_vector).status().code(), absl::StatusCode::kInvalidArgument);

  auto names_self = RoundStart(1);
  names_self.mutable_round_start()->mutable_parameters()->add_neighbor_ids(1);
  EXPECT_EQ(state.Handle(names_self).status().code(), absl::StatusCode::kInvalidArgument);

  auto repeats = RoundStart(1);
  repeats.mutable_round_start()->mutable_parameters()->add_neighbor_ids(2);
  EXPECT_EQ(state.Handle(repeats).status().code(), absl::StatusCode::kInvalidArgument);

  auto too_many = RoundStart(1);
  too_many.mutable_round_start()->mutable_parameters()->add_neighbor_ids(17);
  EXPECT_EQ(state.Handle(too_many).status().code(), absl::StatusCode::kInvalidArgument);

  auto bad_bits = RoundStart(1);
  bad_bits.mutable_round_start()->mutable_parameters()->set_bits(0);
  EXPECT_FALSE(state.Handle(bad_bits).ok());

  // Nothing was drawn by the rejections: the reply equals a fresh state's.
  auto accepted = state.Handle(RoundStart(1));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  ClientAdvertiseKeysState fresh(Env(1, Seeded(5, "c1")));
  auto expected = fresh.Handle(RoundStart(1));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(accepted->reply.SerializeAsString(), expected->reply.SerializeAsString());
}

TEST(ClientAdvertiseKeysState, RefusesVectorsAboveTheClientsLimit) {
  auto env = Env(1, Seeded(5, "c1"));
  env->config.max_vector_length = 3;
  ClientAdvertiseKeysState state(env);
  EXPECT_EQ(state.Handle(RoundStart(1)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientAdvertiseKeysState, AFailedDrawFailsTheStep) {
  ClientAdvertiseKeysState state(Env(1, std::make_shared<testing::FailingRandomSource>()));
  EXPECT_EQ(state.Handle(RoundStart(1)).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tacit::secagg
