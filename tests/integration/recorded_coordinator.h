#pragma once

// The real coordinator (coordinator::CoordinatorServer, the service
// `tacit-coordinator serve` runs) in this process, on the fleet's address
// with the fleet's PKI, its gRPC traffic recorded by a WireRecorder and its
// phases driven every 50 ms until destroyed.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "coordinator/service/coordinator_server.h"
#include "tests/integration/fleet_harness.h"
#include "tests/integration/wire_recorder.h"

namespace tacit::testing {

class RecordedCoordinator {
 public:
  // A test failure (and server() null) when it cannot start.
  RecordedCoordinator(Fleet& fleet, const std::string& task_path);
  ~RecordedCoordinator();

  coordinator::CoordinatorServer* server() { return server_.get(); }
  const WireRecorder& recorder() const { return *recorder_; }
  // Stops the driver and the server; the recording stays readable.
  void Stop();

 private:
  std::unique_ptr<WireRecorder> recorder_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::atomic<bool> stop_{false};
  std::thread driver_;
};

}  // namespace tacit::testing
