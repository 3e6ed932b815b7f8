#pragma once

// Helpers for the one-state server tests: a round made with injected
// randomness and client messages built by hand.

#include <memory>
#include <string>

#include "secure_agg/server/server_state.h"
#include "tests/secure_agg/state_test_support.h"

namespace tacit::secagg::testing {

inline ServerConfig SmallConfig(uint64_t seed = 41) {
  ServerConfig c;
  c.round_id = 7;
  c.cohort_ids = {1, 2, 3, 4, 5};
  c.threshold = 3;
  c.bits = 32;
  c.scale = 1024;
  c.vector_length = 4;
  c.unmask_threads = 2;
  c.random = Seeded(seed, "server");
  return c;
}

inline std::shared_ptr<const ServerRound> MakeRound(ServerConfig config) {
  auto round = ServerRound::Create(std::move(config));
  EXPECT_TRUE(round.ok()) << round.status();
  return round.ok() ? *round : nullptr;
}

inline v1::SecAggClientToServer ClientMessage(uint64_t round_id, const Bytes& session_id) {
  v1::SecAggClientToServer m;
  m.set_round_id(round_id);
  m.set_session_id(ToString(session_id));
  return m;
}

// The one key map the states after advertise_keys share.
inline SharedKeys KeyMap(const std::map<uint32_t, Party>& parties) {
  auto keys = std::make_shared<PublicKeyMap>();
  for (const auto& [id, p] : parties) keys->emplace(id, p.PublicKeys());
  return keys;
}

}  // namespace tacit::secagg::testing
