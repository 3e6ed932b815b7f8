// ServerNotStartedState alone: it takes no client messages, and Advance()
// sends every cohort member the round start with its neighbours. The graph
// seed is drawn from the injected source.

#include "secure_agg/server/not_started_state.h"

#include "gtest/gtest.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

TEST(ServerNotStartedState, StartsTheRoundForTheWholeCohort) {
  auto round = testing::MakeRound(testing::SmallConfig());
  ServerNotStartedState state(round);
  EXPECT_EQ(state.phase(), ServerPhase::kNotStarted);
  EXPECT_TRUE(state.PendingClients().empty());
  auto t = state.Advance();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->next->phase(), ServerPhase::kAdvertiseKeys);
  EXPECT_EQ(t->next->PendingClients(), (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  ASSERT_EQ(t->outcome.messages.size(), 5u);
  const auto p = t->outcome.messages.Get(2)->round_start().parameters();
  EXPECT_EQ(p.round_id(), 7u);
  EXPECT_EQ(p.threshold(), 3u);
  EXPECT_EQ(p.cohort_size(), 5u);
  EXPECT_EQ(std::vector<uint32_t>(p.neighbor_ids().begin(), p.neighbor_ids().end()),
            (std::vector<uint32_t>{1, 3, 4, 5}));
  // The graph seed is the source's first draw.
  auto random = testing::Seeded(41, "server");
  SecretKey seed = *DrawSecretKey(*random);
  EXPECT_EQ(p.graph_seed(), ToString(seed.span()));
  EXPECT_FALSE(t->outcome.result.has_value());
}

TEST(ServerNotStartedState, SecAggPlusGraphIsReproducibleFromTheSeed) {
  auto config = testing::SmallConfig();
  config.cohort_ids = {1, 2, 3, 4, 5, 6, 7, 8};
  config.neighbors = 4;
  auto a = testing::MakeRound(config);
  config.random = testing::Seeded(41, "server");
  auto b = testing::MakeRound(config);
  config.random = testing::Seeded(42, "server");
  auto c = testing::MakeRound(config);
  bool any_differs = false;
  for (uint32_t id = 1; id <= 8; ++id) {
    EXPECT_EQ(a->graph.NeighborsOf(id).size(), 4u);
    EXPECT_EQ(a->graph.NeighborsOf(id), b->graph.NeighborsOf(id));
    any_differs |= a->graph.NeighborsOf(id) != c->graph.NeighborsOf(id);
  }
  EXPECT_TRUE(any_differs);
}

TEST(ServerNotStartedState, RefusesClientMessages) {
  ServerNotStartedState state(testing::MakeRound(testing::SmallConfig()));
  v1::SecAggClientToServer m;
  m.set_round_id(7);
  m.mutable_advertise_keys();
  EXPECT_EQ(state.HandleClientMessage(1, m).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state.HandleClientMessage(99, m).code(), absl::StatusCode::kNotFound);
}

TEST(ServerNotStartedState, AFailedDrawFailsCreation) {
  auto config = testing::SmallConfig();
  config.random = std::make_shared<testing::FailingRandomSource>();
  EXPECT_EQ(ServerRound::Create(config).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tacit::secagg
