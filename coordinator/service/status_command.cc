// `tacit-coordinator status`: what a running coordinator is doing, from its
// operator endpoint (/status).

#include <httplib.h>

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_io.h"
#include "coordinator/cli_commands.h"
#include "nlohmann/json.hpp"

namespace tacit::coordinator {
namespace {

struct StatusArgs {
  std::string metrics;  // HOST:PORT
  std::string state_dir;
  bool json = false;
};

// The federated evaluation line: cohort sums only (the coordinator never sees
// one client's figures).
std::string LastAccuracy(const nlohmann::json& e) {
  if (!e.is_object()) return "none yet (no committed round with held-out predictions)";
  return absl::StrFormat(
      "top-1 %.4f, top-3 %.4f, loss %.3f nats (model version %d, %d clients, %d predictions)",
      e.value("top1", 0.0), e.value("top3", 0.0), e.value("loss", 0.0),
      e.value("model_version", int64_t{0}), e.value("clients", int64_t{0}),
      e.value("predictions", int64_t{0}));
}

int Run(const StatusArgs& args) {
  std::string address = args.metrics;
  if (address.empty() && !args.state_dir.empty()) {
    auto endpoint = ReadFileToString(args.state_dir + "/endpoint.json");
    if (!endpoint.ok()) {
      std::cerr << "tacit-coordinator status: no running coordinator found for " << args.state_dir
                << " (" << endpoint.status().message() << ")\n";
      return 1;
    }
    address = nlohmann::json::parse(*endpoint, nullptr, false).value("metrics", "");
  }
  if (address.empty()) {
    std::cerr << "tacit-coordinator status: give --metrics HOST:PORT or --state DIR\n";
    return 2;
  }
  httplib::Client client(absl::StrCat("http://", address));
  client.set_connection_timeout(3);
  auto response = client.Get("/status");
  if (!response || response->status != 200) {
    std::cerr << "tacit-coordinator status: no answer from http://" << address
              << "/status; is the coordinator running with --metrics " << address << "?\n";
    return 1;
  }
  nlohmann::json s = nlohmann::json::parse(response->body, nullptr, false);
  if (args.json || s.is_discarded()) {
    std::cout << response->body << "\n";
    return 0;
  }
  std::cout << "task:          " << s.value("task", "") << " (" << s.value("rounds", 0)
            << " rounds)\n"
            << "model version: " << s.value("model_version", 0) << "\n"
            << "round:         " << s.value("round", 0) << " attempt " << s.value("attempt", 0)
            << ", phase " << s.value("phase", "") << "\n"
            << "participants:  " << s.value("participants", 0) << " seated, "
            << s.value("dropped", 0) << " dropped\n"
            << "epsilon:       " << s.value("epsilon", 0.0) << "\n"
            << "last accuracy: " << LastAccuracy(s.value("last_evaluation", nlohmann::json()))
            << "\n"
            << "last round:    " << s.value("last_round", nlohmann::json::object()).dump() << "\n";
  return 0;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandAction* action) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* status = app.add_subcommand(
      "status", "Show the running task, round, phase, participants, last round and last accuracy");
  status->add_option("--metrics", args->metrics, "The coordinator's operator HTTP address");
  status->add_option("--state", args->state_dir,
                     "The coordinator's state folder (its endpoint.json names the address)");
  status->add_flag("--json", args->json, "Print the raw JSON");
  status->callback([args, action] { *action = [args] { return Run(*args); }; });
}

}  // namespace tacit::coordinator
