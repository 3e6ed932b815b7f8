#pragma once

// The one driver of a secure aggregation round on the server's side, whatever
// carries the messages. It owns the SecAgg server, opens the round, takes each
// client's reply for the open phase, ends phases, and keeps what an operator
// or a researcher needs to know of the round: who was expected and who
// answered in each phase, who dropped, bytes each way, server time.
//
// Two ways to use it:
//   - event-driven (the coordinator's gRPC service): Start(), then Receive()
//     as replies arrive and EndPhase() when everyone answered or the phase's
//     deadline passed; the caller owns the clock.
//   - through a Delivery (the simulator's in-memory transport, the benchmark,
//     the tests): RunRound() does Start, Deliver and EndPhase for each phase.
// Both go through the same Start/Receive/EndPhase, so only the way messages
// travel differs between the transports.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "secure_agg/phase.h"
#include "secure_agg/server.h"
#include "secure_agg/server_messages.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

// What happened in one phase, as the server saw it.
struct PhaseRecord {
  int expected = 0;               // clients this phase's messages went to
  int answered = 0;               // replies the server accepted
  int dropped = 0;                // expected clients with no reply when the phase ended
  uint64_t bytes_down_total = 0;  // this phase's server -> client messages
  uint64_t bytes_down_max = 0;
  uint64_t bytes_up_total = 0;  // accepted client -> server replies
  uint64_t bytes_up_max = 0;
  double server_seconds = 0;  // accepting replies and ending the phase
};

class RoundDriver {
 public:
  // Creates the SecAgg server (config checks, neighbour graph, no-wrap check).
  static absl::StatusOr<std::unique_ptr<RoundDriver>> Create(ServerConfig config);
  explicit RoundDriver(std::unique_ptr<SecAggServer> server);
  RoundDriver(const RoundDriver&) = delete;
  RoundDriver& operator=(const RoundDriver&) = delete;

  // Opens the first phase: the round parameters for every cohort member.
  // FailedPrecondition when already started.
  absl::StatusOr<ServerMessages> Start();

  // One client's reply for the open phase; errors as SecAggServer's (a
  // rejected reply changes nothing and is not counted).
  absl::Status Receive(uint32_t client_id, const v1::SecAggClientToServer& message);

  // Ends the open phase: clients that have not answered are dropped and
  // counted. Returns the next phase's messages, or after unmasking the result.
  // Aborted (the round is over) when too few clients survive; the server's
  // message names the round and the phase.
  struct Step {
    ServerMessages messages;
    std::optional<AggregationResult> result;
  };
  absl::StatusOr<Step> EndPhase();

  // The phase whose replies are being taken; nullopt before Start() and once
  // the round completed or failed.
  std::optional<Phase> open_phase() const;
  // True when every client expected in the open phase has answered.
  bool AllAnswered() const;
  std::vector<uint32_t> PendingClients() const;

  std::array<PhaseRecord, kPhaseCount> phases() const;
  std::array<int, kPhaseCount> dropouts_per_phase() const;
  int64_t bytes_sent() const;      // all server -> client messages so far
  int64_t bytes_received() const;  // all accepted client -> server replies so far
  double server_seconds() const;   // opening the round plus every phase's server time

  SecAggServer& server() { return *server_; }
  const SecAggServer& server() const { return *server_; }

 private:
  void CountSent(Phase phase, const ServerMessages& messages);

  std::unique_ptr<SecAggServer> server_;
  mutable std::mutex mu_;  // the records; the server serialises itself
  int open_ = -1;          // index of the open phase; -1 before, kPhaseCount after
  std::array<PhaseRecord, kPhaseCount> phases_{};
  double start_seconds_ = 0;
};

// Carries one phase's messages to their clients and their replies back.
class Delivery {
 public:
  virtual ~Delivery() = default;
  using ReplySink = std::function<absl::Status(uint32_t, const v1::SecAggClientToServer&)>;
  // Gets `messages` (one per client still in the round) to their clients and
  // passes each reply that arrives within the phase to `reply`. Returns when
  // the phase is over for this transport. A client that refuses or vanishes
  // simply does not reply; an error here (a transport failure, or `reply`
  // rejecting a message in memory, which only a bug can cause) ends the round.
  virtual absl::Status Deliver(Phase phase, const ServerMessages& messages,
                               const ReplySink& reply) = 0;
};

// Runs a round to its end through `delivery`: Start, then Deliver and
// EndPhase for each phase. The server's result, or its failure (Aborted when
// too few clients survived); the driver's records say who dropped where.
absl::StatusOr<AggregationResult> RunRound(RoundDriver& driver, Delivery& delivery);

}  // namespace tacit::secagg
