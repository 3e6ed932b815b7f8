#include "coordinator/operator_http.h"

#include <httplib.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace tacit::coordinator {

OperatorHttpServer::OperatorHttpServer(const MetricsRegistry* registry, StatusFunction status)
    : registry_(registry), status_(std::move(status)) {}

OperatorHttpServer::~OperatorHttpServer() { Stop(); }

absl::StatusOr<int> OperatorHttpServer::Start(const std::string& host, int port) {
  if (server_) return absl::FailedPreconditionError("operator HTTP server already started");
  server_ = std::make_unique<httplib::Server>();
  // httplib's default adds SO_REUSEPORT, which would let a second coordinator
  // silently share the port; keep only SO_REUSEADDR (fast restarts).
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json body;
    try {
      body = status_ ? status_() : nlohmann::json::object();
    } catch (const std::exception& e) {
      res.status = 500;
      body = {{"error", e.what()}};
    }
    res.set_content(body.dump(2) + "\n", "application/json");
  });
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port,
                                               " for /metrics and /status; is the port in use?"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs; wait for it so a
  // quick Stop() cannot leave the thread serving forever.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

void OperatorHttpServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace tacit::coordinator
