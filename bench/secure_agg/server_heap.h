#pragma once

// The SecAgg server's heap, measured while the clients live in the same
// process: at each phase boundary the process forks, the child destroys every
// client (their keys, shares and vectors) and reports the heap still in use
// (malloc's allocated bytes, mmapped blocks included). What remains is the
// server, its driver's records and the messages it holds for the clients
// (the coordinator holds those too until they are fetched), plus the bench's
// baseline, which the caller subtracts.

#include <array>
#include <cstdint>

#include "secure_agg/in_process_delivery.h"
#include "secure_agg/round_driver.h"

namespace tacit::secagg {

// Heap bytes in use in this process now (mallinfo2: arenas + mmapped).
int64_t HeapInUse();

// Delivers through `inner` and samples the server's heap when each phase
// opens (the server's messages built, no reply yet) and when its replies are
// all in (before the server ends it). -1 where a sample failed.
class ServerHeapDelivery : public Delivery {
 public:
  explicit ServerHeapDelivery(InProcessDelivery& inner) : inner_(inner) {}
  absl::Status Deliver(Phase phase, const ServerMessages& messages,
                       const ReplySink& reply) override;

  // Per phase: {at open, with every reply in}.
  const std::array<std::array<int64_t, 2>, kPhaseCount>& samples() const { return samples_; }

 private:
  int64_t SampleWithoutClients();

  InProcessDelivery& inner_;
  std::array<std::array<int64_t, 2>, kPhaseCount> samples_{};
};

}  // namespace tacit::secagg
