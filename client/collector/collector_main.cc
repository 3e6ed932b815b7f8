// tacit-collector: the live X11 collector that `tacit-client collect` runs in
// its place (exec, same process). A program of its own so that it links no
// LibTorch and no gRPC: it stays under 30 MiB of memory (docs/collector.md).

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "client/collector/x11_collector.h"
#include "client/control_state.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void RequestStop(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tacit-collector: turns this X11 session's keys, clicks and app switches, and the shell "
      "hook's command names, into privacy-filtered events in the encrypted store. Started by "
      "`tacit-client collect` or the tacit-collector user unit."};
  tacit::collector::CollectorOptions options;
  options.dir = tacit::DefaultClientDirectory();
  double batch_seconds = 5;
  app.add_option("--dir", options.dir, "The client's folder")->capture_default_str();
  app.add_option("--display", options.display, "The X display; default $DISPLAY");
  app.add_option("--batch-seconds", batch_seconds,
                 "Write collected events to the store at least this often")
      ->check(CLI::Range(0.2, 60.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.batch_ms = static_cast<int64_t>(batch_seconds * 1000);

  struct sigaction action {};
  action.sa_handler = RequestStop;  // no SA_RESTART: a signal ends poll() at once
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);

  absl::Status status = tacit::collector::RunCollector(options, &g_stop);
  if (!status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 2;
  }
  return 0;
}
