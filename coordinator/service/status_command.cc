// `tacit-coordinator status`: the task, model version, epsilon, open round
// and last round. With --state it reads the state folder itself, so it works
// with no coordinator running (offline_status.h), and adds the open round's
// live progress when the coordinator named by its endpoint.json answers;
// with --metrics it asks a running coordinator's /status only.

#include <httplib.h>

#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "coordinator/cli_commands.h"
#include "coordinator/service/offline_status.h"
#include "coordinator/status_text.h"
#include "nlohmann/json.hpp"

namespace tacit::coordinator {
namespace {

struct StatusArgs {
  std::string metrics;  // HOST:PORT
  std::string state_dir;
  bool json = false;
};

// /status of the coordinator at `address`, or nothing when none answers.
std::optional<nlohmann::json> LiveStatus(const std::string& address, int timeout_seconds) {
  httplib::Client client(absl::StrCat("http://", address));
  client.set_connection_timeout(timeout_seconds);
  client.set_read_timeout(timeout_seconds);
  auto response = client.Get("/status");
  if (!response || response->status != 200) return std::nullopt;
  nlohmann::json s = nlohmann::json::parse(response->body, nullptr, false);
  if (s.is_discarded() || !s.is_object()) return std::nullopt;
  return s;
}

// The operator address a serving coordinator wrote into the state folder.
std::string EndpointAddress(const std::string& state_dir) {
  auto endpoint = ReadFileToString(state_dir + "/endpoint.json");
  if (!endpoint.ok()) return "";
  absl::StatusOr<nlohmann::json> parsed = ParseJson(*endpoint, "endpoint.json");
  return parsed.ok() ? StringOr(*parsed, "metrics", "") : "";
}

int Print(const nlohmann::json& status, bool json) {
  std::cout << (json ? status.dump(2) + "\n" : FormatStatusText(status));
  return 0;
}

int Run(const StatusArgs& args) {
  if (!args.state_dir.empty()) {
    absl::StatusOr<nlohmann::json> offline = OfflineStatusJson(args.state_dir);
    if (!offline.ok()) {
      std::cerr << "tacit-coordinator status: " << offline.status().message() << "\n";
      return 1;
    }
    const std::string address = EndpointAddress(args.state_dir);
    std::optional<nlohmann::json> live =
        address.empty() ? std::nullopt : LiveStatus(address, /*timeout_seconds=*/1);
    if (!live) {
      (*offline)["coordinator"] = "not running (read from the state folder)";
      return Print(*offline, args.json);
    }
    // The live view knows the open round; the state knows rounds from
    // before this coordinator started.
    nlohmann::json merged = *live;
    if (!merged["last_round"].is_object() || merged["last_round"].empty()) {
      merged["last_round"] = (*offline)["last_round"];
    }
    merged["coordinator"] = absl::StrCat("running (operator endpoint ", address, ")");
    return Print(merged, args.json);
  }
  if (args.metrics.empty()) {
    std::cerr << "tacit-coordinator status: give --state DIR (works without a running "
                 "coordinator) or --metrics HOST:PORT\n";
    return 2;
  }
  std::optional<nlohmann::json> live = LiveStatus(args.metrics, /*timeout_seconds=*/3);
  if (!live) {
    std::cerr << "tacit-coordinator status: no answer from http://" << args.metrics
              << "/status; is the coordinator running with --metrics " << args.metrics
              << "? (--state DIR reads its state folder without it)\n";
    return 1;
  }
  (*live)["coordinator"] = absl::StrCat("running (operator endpoint ", args.metrics, ")");
  return Print(*live, args.json);
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandAction* action) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* status = app.add_subcommand(
      "status",
      "Show the task, model version, epsilon, open round, last round and last accuracy; "
      "--state works without a running coordinator");
  status->add_option("--metrics", args->metrics, "A running coordinator's operator HTTP address");
  status->add_option("--state", args->state_dir,
                     "The coordinator's state folder: read directly (no coordinator needed), "
                     "with live progress when the coordinator it names answers");
  status->add_flag("--json", args->json, "Print JSON (the same keys as /status)");
  status->callback([args, action] { *action = [args] { return Run(*args); }; });
}

}  // namespace tacit::coordinator
