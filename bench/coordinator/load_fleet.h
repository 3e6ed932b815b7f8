#pragma once

// The simulated fleet of federation_load_bench: each client is the fleet
// client's own code with synthetic tokens as its local data. It checks in
// with the daemon's retry policy (BackoffSeconds after a failed call, the
// coordinator's retry-after otherwise), then runs runtime::RunAssignedRound:
// model download, held-out evaluation, local training, clip, the evaluation
// counts appended, SecAggClient over the gRPC stubs, the round's result. The
// coordinator therefore sees exactly the updates a laptop sends.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/runtime/round_runner.h"
#include "common/token_stream.h"
#include "tacit/v1/federation.grpc.pb.h"

namespace tacit::bench {

struct LoadClient {
  std::string device;
  std::string dir;  // its folder: model cache, privacy ledger
  PersonTokens tokens;
  std::unique_ptr<v1::Federation::Stub> stub;
  std::shared_ptr<const secagg::Signer> signer;              // its device key and SecAgg credential
  std::shared_ptr<const secagg::IdentityVerifier> verifier;  // the fleet CA
};

struct RetryPolicy {
  double max_backoff_seconds = 30;  // BackoffSeconds' cap after failed check-ins
  double max_retry_seconds = 10;    // the coordinator's retry-after is capped here
  double give_up_seconds = 600;     // then the client stays out of the round
};

// What one client's round came to.
struct ClientRound {
  int check_in_calls = 0;    // including failed ones and retry-afters
  int failed_check_ins = 0;  // calls that failed (retried with backoff)
  bool seated = false;       // it got an assignment
  std::string outcome;       // the audit entry's: "committed", "left: ...", ...
  int64_t bytes_up = 0;      // every call of the round, as the audit log counts them
  int64_t bytes_down = 0;
};

// Runs one round for every client at once (one thread each; at most
// `training_slots` train at the same time, each on one thread).
std::vector<ClientRound> RunFleetRound(std::vector<LoadClient>& clients, int training_slots,
                                       const RetryPolicy& retry);

}  // namespace tacit::bench
