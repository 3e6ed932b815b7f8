#pragma once

// The coordinator's operator endpoint over plain HTTP (cpp-httplib):
//   GET /metrics  Prometheus text format from a MetricsRegistry
//   GET /status   JSON from a caller-supplied function (task, round, phase...)
// Bind it to localhost or a management network: it carries no secrets but
// is not authenticated.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "coordinator/metrics.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
}

namespace tacit::coordinator {

class OperatorHttpServer {
 public:
  using StatusFunction = std::function<nlohmann::json()>;

  // `registry` must outlive the server; `status` is called per request from
  // the server's threads and must be thread-safe.
  OperatorHttpServer(const MetricsRegistry* registry, StatusFunction status);
  ~OperatorHttpServer();  // stops

  // Binds host:port (port 0 picks a free one), starts serving on a background
  // thread and returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  const MetricsRegistry* registry_;
  StatusFunction status_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace tacit::coordinator
