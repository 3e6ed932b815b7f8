#pragma once

// `tacit-coordinator serve`: the state store, the round orchestrator, the
// Federation gRPC service with mutual TLS (only clients with a device
// certificate from the fleet CA get through the handshake), the operator
// HTTP endpoint (/metrics, /status) and a driver thread that ends phases at
// their deadlines. Runs until SIGINT/SIGTERM, or until the task is complete
// when exit_when_done is set.

#include <cstdint>
#include <string>

#include "absl/status/status.h"

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
  // gRPC resource quota (transport buffers of all connections); 0: none.
  int64_t grpc_memory_mib = 96;
  bool exit_when_done = false;
  double linger_seconds = 5;  // after the task completes, before exiting
};

// The bound ports are written to STATE_DIR/endpoint.json
// ({"grpc": "HOST:PORT", "metrics": "HOST:PORT"}) once serving, so a port
// of 0 can be used.
absl::Status Serve(const ServeOptions& options);

}  // namespace tacit::coordinator
