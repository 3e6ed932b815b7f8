#pragma once

// `tacit-coordinator serve`: the state store, the round orchestrator, the
// Federation gRPC service with mutual TLS (only clients with a device
// certificate from the fleet CA get through the handshake), the operator
// HTTP endpoint (/metrics, /status) and a driver loop that ends phases at
// their deadlines. Runs until SIGINT/SIGTERM, or until the task is complete
// when exit_when_done is set.
//
// CoordinatorServer is the same service without the process around it (no
// signals, no files to read): tacit-sim's gRPC transport runs it in-process
// on a loopback port.

#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/service/round_orchestrator.h"
#include "spdlog/logger.h"
#include "task/task_config.h"

namespace tacit::coordinator {

struct ServeOptions {
  std::string config_path;  // task config (JSON)
  std::string state_dir;    // StateStore folder
  std::string pki_dir;      // ca.crt, server.crt, server.key (pki init)
  std::string listen = "0.0.0.0:7443";
  std::string metrics_listen = "127.0.0.1:9464";  // empty: no operator endpoint
  int64_t population = 0;                         // 0: the device certificates in PKI_DIR/devices
  double check_ins_per_minute = 60;
  double long_poll_seconds = 10;
  // gRPC resource quota (transport buffers of all connections), raised to
  // the cohort's uploads in flight (TransportQuotaFloorBytes); 0: none.
  int64_t grpc_memory_mib = 96;
  bool exit_when_done = false;
  // Serve a task whose secure_agg overrides are weaker than the targets and
  // the automatic choice (coordinator/round/secagg_bounds.h); warns loudly.
  bool force_weak_secure_agg = false;
  double linger_seconds = 5;  // after the task completes, before exiting
};

// The bound ports are written to STATE_DIR/endpoint.json
// ({"grpc": "HOST:PORT", "metrics": "HOST:PORT"}) once serving, so a port
// of 0 can be used.
absl::Status Serve(const ServeOptions& options);

// What a running coordinator needs, already read from disk.
struct CoordinatorServerConfig {
  TaskConfig task;
  std::string state_dir;
  std::string ca_pem;  // the fleet CA: device certificates must chain to it
  // The PKI folder whose revoked.txt is the serial denylist, re-read when it
  // changes (coordinator/pki_revocation.h); empty: no denylist.
  std::string revocation_dir;
  std::string server_cert_pem;
  std::string server_key_pem;  // cleansed from this struct's copy once the server holds it
  std::string listen = "127.0.0.1:0";
  std::string metrics_listen;  // empty: no operator endpoint
  int64_t population = 0;      // devices the cohort is sampled from (DP rate); 0: the cohort
  uint64_t initial_seed = 1;   // seed of the version-0 parameters
  double check_ins_per_minute = 60;
  double long_poll_seconds = 10;
  int64_t grpc_memory_mib = 96;            // gRPC resource quota (see ServeOptions); 0: none
  std::shared_ptr<spdlog::logger> logger;  // JSON lines; null: to stderr
  // gRPC server interceptors, e.g. the integration tests' wire recorder that
  // checks what laptops send; unset in production.
  std::function<
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>()>
      interceptors;
};

class CoordinatorServer {
 public:
  // Opens the state store, resumes or starts the task and starts serving.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(CoordinatorServerConfig config);
  ~CoordinatorServer();  // Shutdown()

  const std::string& grpc_address() const { return grpc_address_; }  // HOST:PORT bound
  const std::string& metrics_address() const { return metrics_address_; }
  // gRPC's max receive message size: MaxSubmitBytes of the task (call_limits.h).
  int64_t max_receive_message_bytes() const { return max_receive_message_bytes_; }
  RoundOrchestrator& orchestrator() { return *orchestrator_; }

  // The driver's step: ends phases past their deadline, answers expired long-polls.
  void Tick(SteadyClock::time_point now);
  // Stops serving; parked long-polls are answered so the server drains.
  void Shutdown();

  class Parts;

 private:
  CoordinatorServer();
  std::unique_ptr<Parts> parts_;
  RoundOrchestrator* orchestrator_ = nullptr;
  std::string grpc_address_;
  std::string metrics_address_;
  int64_t max_receive_message_bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace tacit::coordinator
