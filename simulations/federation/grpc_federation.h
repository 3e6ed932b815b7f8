#pragma once

// tacit-sim's gRPC transport: the production coordinator service
// (CoordinatorServer: orchestrator, Federation service, state store) runs
// in this process on a loopback port with mutual TLS, and every simulated
// person is a fleet client with its own device certificate from a throwaway
// fleet PKI, running the fleet client's round (runtime::RunAssignedRound:
// model download, local training, SecAggClient over the federation.proto
// stubs) with their tokens as the local data. Only the data source differs
// from a laptop; every byte counted crossed the loopback as protobuf.
//
// Time: a client that vanishes is dropped by the coordinator at the phase
// deadline, exactly as in production. The simulator knows when every client
// still talking is waiting, so it ends the phase then (ExpireDeadline)
// instead of sleeping until the wall-clock deadline.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/token_stream.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/report/round_record.h"

namespace tacit::sim {

// One selected person's behaviour in a round, as the simulator drew it.
struct SimulatedSeat {
  size_t person = 0;       // index into the population
  int drop_phase = -1;     // stops talking after receiving this phase's message; -1 = never
  bool straggler = false;  // checks in, then never answers (misses the training deadline)
};

class GrpcFederation {
 public:
  // Creates FOLDER/pki (fleet CA, server certificate for localhost), starts
  // the coordinator with its state in FOLDER/coordinator (log:
  // FOLDER/coordinator.log) and keeps client folders in FOLDER/clients.
  static absl::StatusOr<std::unique_ptr<GrpcFederation>> Start(
      const ExperimentConfig& config, const std::vector<PersonTokens>& people,
      const std::string& folder);
  ~GrpcFederation();

  // One round attempt: check-ins in seat order, then each seated client's
  // round as a task (threads: the seats; training `workers` at a time).
  // Fills outcome, participants, dropouts per phase, bytes and timings of
  // `record`. Errors only for failures of the simulation itself.
  absl::Status RunRound(int round, const std::vector<SimulatedSeat>& seats, RoundRecord& record,
                        const std::function<void(const std::string& phase)>& on_phase);

  std::vector<float> parameters() const;
  int64_t model_version() const;
  double epsilon() const;

  class Impl;

 private:
  explicit GrpcFederation(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tacit::sim
