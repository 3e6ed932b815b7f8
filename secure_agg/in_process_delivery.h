#pragma once

// The in-memory transport of a secure aggregation round: every client lives
// in this process and gets its messages by a function call. Clients answer in
// parallel (`workers` at a time), their replies reach the server in client-id
// order, so a round is reproducible whatever the thread timing. A client that
// vanishes (DropoutPlan) or refuses a message is destroyed on the spot, as a
// closed laptop would free its state, and never answers again. Used by the
// simulator's in-process transport, the benchmark and the tests, always
// through RoundDriver / RunRound (round_driver.h).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "secure_agg/client.h"
#include "secure_agg/round_driver.h"

namespace tacit::secagg {

// dropped_before[p]: clients that stop answering from phase p on (their
// message for phase p and later is never delivered to them).
struct DropoutPlan {
  std::array<std::set<uint32_t>, kPhaseCount> dropped_before;
};

// What the clients spent in one phase.
struct ClientPhaseStats {
  double seconds_max = 0;    // slowest client's handling of the phase's message
  double seconds_total = 0;  // all clients together
  uint32_t answered = 0;     // clients that replied
  uint32_t refused = 0;      // clients that returned an error (they drop out)
};

class InProcessDelivery : public Delivery {
 public:
  struct Options {
    DropoutPlan dropouts;
    int workers = 1;  // clients handled at once; 0 = all cores
    // Called as each phase starts (progress displays).
    std::function<void(Phase)> on_phase;
  };

  // `clients` by id; a cohort member without an entry (it never trained, or
  // straggled) simply never answers.
  InProcessDelivery(std::map<uint32_t, std::unique_ptr<SecAggClient>> clients, Options options);

  absl::Status Deliver(Phase phase, const ServerMessages& messages,
                       const ReplySink& reply) override;

  const std::array<ClientPhaseStats, kPhaseCount>& client_stats() const { return stats_; }
  // Destroys every client still held (their keys and masked vectors).
  void ReleaseClients() { clients_.clear(); }

 private:
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients_;
  Options options_;
  std::array<ClientPhaseStats, kPhaseCount> stats_{};
};

}  // namespace tacit::secagg
