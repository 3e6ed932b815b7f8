// tacit-client dashboard: serves the local privacy page until Ctrl-C.

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "client/dashboard/dashboard_command.h"
#include "client/dashboard/dashboard_server.h"

namespace tacit::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

}  // namespace

void AddDashboardCommand(CLI::App& app, std::shared_ptr<CliContext> context) {
  auto options = std::make_shared<dashboard::DashboardOptions>();
  CLI::App* cmd = app.add_subcommand(
      "dashboard",
      "Serve the local privacy page (what is kept, what left, the privacy budget; pause, "
      "resume, erase) on 127.0.0.1 with a per-session token, until Ctrl-C");
  cmd->add_option("--port", options->port, "Port on 127.0.0.1 (0: a free one)")
      ->capture_default_str();
  cmd->add_option("--bind", options->bind, "Only 127.0.0.1 is accepted")->capture_default_str();
  cmd->callback([options, context] {
    dashboard::DashboardOptions o = *options;
    o.dir = context->dir;
    auto server = dashboard::DashboardServer::Start(o);
    FailIfError(server.status());
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    std::cout << "Your privacy page: " << (*server)->url()
              << "\nOpen it in your browser; it works only on this laptop, with this address "
                 "(a new one each time). Ctrl-C stops it."
              << std::endl;
    while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*server)->Stop();
  });
}

}  // namespace tacit::cli
