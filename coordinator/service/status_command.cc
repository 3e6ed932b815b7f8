// `tacit-coordinator status`: what a running coordinator is doing, from its
// operator endpoint (/status).

#include <httplib.h>

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "coordinator/cli_commands.h"
#include "coordinator/status_text.h"
#include "nlohmann/json.hpp"

namespace tacit::coordinator {
namespace {

struct StatusArgs {
  std::string metrics;  // HOST:PORT
  std::string state_dir;
  bool json = false;
};

int Run(const StatusArgs& args) {
  std::string address = args.metrics;
  if (address.empty() && !args.state_dir.empty()) {
    auto endpoint = ReadFileToString(args.state_dir + "/endpoint.json");
    if (!endpoint.ok()) {
      std::cerr << "tacit-coordinator status: no running coordinator found for " << args.state_dir
                << " (" << endpoint.status().message() << ")\n";
      return 1;
    }
    absl::StatusOr<nlohmann::json> parsed = ParseJson(*endpoint, "endpoint.json");
    address = parsed.ok() ? StringOr(*parsed, "metrics", "") : "";
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
  std::cout << FormatStatusText(s);
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
