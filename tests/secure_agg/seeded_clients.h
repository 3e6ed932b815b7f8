#pragma once

// The clients of a pinned-transcript round: each client's randomness is its
// own deterministic stream (seed, "client-<id>"), its input and weight come
// from the test's formulas, so every byte the round sends is reproducible.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "secure_agg/client.h"
#include "secure_agg/randomness.h"
#include "secure_agg/server.h"

namespace tacit::secagg::testing {

using SeededClientMap = std::map<uint32_t, std::unique_ptr<SecAggClient>>;

// One client per id of `config.cohort_ids`, with `config.vector_length`
// inputs input_of(id, i) and weight weight_of(id).
inline absl::StatusOr<SeededClientMap> MakeSeededClients(
    const ServerConfig& config, uint64_t seed,
    const std::function<float(uint32_t id, size_t i)>& input_of,
    const std::function<double(uint32_t id)>& weight_of) {
  SeededClientMap clients;
  for (uint32_t id : config.cohort_ids) {
    ClientConfig cc;
    cc.client_id = id;
    auto random = SeededRandomSourceForTesting::FromSeed(seed, "client-" + std::to_string(id));
    if (!random.ok()) return random.status();
    cc.random = *random;
    std::vector<float> input(config.vector_length);
    for (size_t i = 0; i < input.size(); ++i) input[i] = input_of(id, i);
    auto client = SecAggClient::Create(cc, input, weight_of(id));
    if (!client.ok()) return client.status();
    clients[id] = std::move(*client);
  }
  return clients;
}

}  // namespace tacit::secagg::testing
