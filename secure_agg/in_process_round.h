#pragma once

// Runs a whole round in one process: the server and every client, messages
// passed directly, clients served one at a time (so only one masked vector
// exists at a time, as when every client runs on its own machine). Used by the
// tests and the benchmark; the simulator may use it for quick runs.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>

#include "absl/status/statusor.h"
#include "secure_agg/client.h"
#include "secure_agg/server.h"

namespace tacit::secagg {

constexpr int kProtocolPhases = 4;  // advertise, share keys, masked input, unmasking

// dropped_before[p]: clients that stop answering from phase p on (their
// message for phase p and later is never delivered to the server).
struct DropoutPlan {
  std::array<std::set<uint32_t>, kProtocolPhases> dropped_before;
};

struct PhaseStats {
  double client_seconds_max = 0;    // slowest client's handling of this phase's message
  double client_seconds_total = 0;  // all clients together
  double server_seconds = 0;        // server handling replies + closing the phase
  uint64_t bytes_down_max = 0;      // largest server->client message
  uint64_t bytes_up_max = 0;        // largest client->server message
  uint64_t bytes_down_total = 0;
  uint64_t bytes_up_total = 0;
  uint32_t clients = 0;        // clients that answered
  uint32_t client_errors = 0;  // clients that refused or aborted (treated as dropped)
};

struct RoundStats {
  std::array<PhaseStats, kProtocolPhases> phases;
  double server_total_seconds = 0;
};

using ClientFactory = std::function<absl::StatusOr<std::unique_ptr<SecAggClient>>(uint32_t id)>;

// Runs the round to the end. Returns the server's result or its failure
// status. A client that returns an error drops out, as it would over a real
// transport; a server rejection of a client's reply is returned as an error
// (in-process it can only mean a bug).
absl::StatusOr<AggregationResult> RunInProcessRound(SecAggServer& server,
                                                    const ClientFactory& make_client,
                                                    const DropoutPlan& plan, RoundStats* stats);

}  // namespace tacit::secagg
