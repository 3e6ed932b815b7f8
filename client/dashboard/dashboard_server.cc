#include "client/dashboard/dashboard_server.h"

#include <httplib.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "client/control_state.h"
#include "client/dashboard/dashboard_page.h"
#include "client/dashboard/dashboard_token.h"
#include "client/store/erase_store.h"
#include "common/status_macros.h"

namespace tacit::dashboard {
namespace {

constexpr const char* kLoopback = "127.0.0.1";

void Reply(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text + "\n", "text/plain; charset=utf-8");
}

absl::Status SetSwitches(const std::string& dir, bool paused) {
  TACIT_ASSIGN_OR_RETURN(ControlState state, LoadControlState(dir));
  state.collection_paused = state.training_paused = paused;
  state.changed_ms = cli::NowMs();
  return SaveControlState(dir, state);
}

}  // namespace

DashboardServer::DashboardServer(DashboardOptions options) : options_(std::move(options)) {}

DashboardServer::~DashboardServer() { Stop(); }

absl::StatusOr<std::unique_ptr<DashboardServer>> DashboardServer::Start(DashboardOptions options) {
  if (options.bind != kLoopback) {
    return absl::InvalidArgumentError(
        absl::StrCat("the privacy page serves on 127.0.0.1 only (asked for '", options.bind,
                     "'): it shows what is kept on this laptop and must not be reachable from "
                     "the network"));
  }
  if (options.token.empty()) {
    TACIT_ASSIGN_OR_RETURN(options.token, NewSessionToken());
  }
  std::unique_ptr<DashboardServer> server(new DashboardServer(std::move(options)));
  server->server_ = std::make_unique<httplib::Server>();
  // No SO_REUSEPORT (httplib's default): no second process may share the port.
  server->server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->Route();
  const DashboardOptions& o = server->options_;
  if (o.port == 0) {
    server->port_ = server->server_->bind_to_any_port(kLoopback);
  } else if (server->server_->bind_to_port(kLoopback, o.port)) {
    server->port_ = o.port;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on 127.0.0.1:", o.port, "; is the port in use? Try --port 0"));
  }
  DashboardServer* raw = server.get();
  server->thread_ = std::thread([raw] { raw->server_->listen_after_bind(); });
  // httplib's stop() does nothing until the loop runs.
  while (!server->server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return server;
}

std::string DashboardServer::url() const {
  return absl::StrCat("http://", kLoopback, ":", port_, "/?token=", options_.token);
}

void DashboardServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void DashboardServer::Route() {
  // Every request: this server's own Host (a rebound DNS name is refused),
  // then the token, from the header or, for the page, the query.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const std::string host = req.get_header_value("Host");
    const std::string own = absl::StrCat(kLoopback, ":", port_);
    const std::string given = req.has_header("X-Tacit-Token")
                                  ? req.get_header_value("X-Tacit-Token")
                                  : req.get_param_value("token");
    if ((host != own && host != absl::StrCat("localhost:", port_)) ||
        !TokenMatches(options_.token, given)) {
      Reply(res, 403,
            "forbidden: open the address `tacit-client dashboard` printed (it carries this "
            "session's token)");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_->Get("/", [this](const httplib::Request&, httplib::Response& res) {
    absl::StatusOr<PageFacts> facts = GatherPage(options_.dir);
    if (!facts.ok()) {
      Reply(res, 500, absl::StrCat("cannot read the client's folder: ", facts.status().message()));
      return;
    }
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                   "connect-src 'self'; form-action 'none'; frame-ancestors 'none'");
    res.set_content(RenderPage(*facts, options_.token), "text/html; charset=utf-8");
  });
  auto switches = [this](bool paused) {
    return [this, paused](const httplib::Request&, httplib::Response& res) {
      absl::Status saved = SetSwitches(options_.dir, paused);
      if (!saved.ok()) return Reply(res, 500, std::string(saved.message()));
      Reply(res, 200,
            paused ? "Paused: nothing is recorded, and a round in progress stops at its next "
                     "step; nothing more leaves this laptop."
                   : "Resumed: collection and training are on.");
    };
  };
  server_->Post("/pause", switches(true));
  server_->Post("/resume", switches(false));
  server_->Post("/erase", [this](const httplib::Request&, httplib::Response& res) {
    absl::StatusOr<EraseAllReport> report = EraseAllInDirectory(options_.dir);
    if (!report.ok()) return Reply(res, 500, std::string(report.status().message()));
    Reply(res, 200,
          report->emptied_in_place
              ? absl::StrCat("Erased ", report->events_erased, " stored events.")
              : absl::StrCat("The store could not be read; its ", report->removed_files.size(),
                             " files and its key were deleted."));
  });
}

}  // namespace tacit::dashboard
