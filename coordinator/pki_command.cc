// `tacit-coordinator pki init|issue`: a fleet CA and certificates.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/cli_commands.h"
#include "coordinator/pki.h"

namespace tacit::coordinator {
namespace {

struct PkiArgs {
  std::string dir = "pki";
  std::vector<std::string> server_names;
  PkiValidity validity;
  std::string device_id;
  bool replace = false;
};

int Fail(const absl::Status& status) {
  std::cerr << "tacit-coordinator pki: " << status.message() << "\n";
  return 1;
}

}  // namespace

void AddPkiCommand(CLI::App& app, CommandAction* action) {
  auto args = std::make_shared<PkiArgs>();
  CLI::App* pki = app.add_subcommand("pki", "Create the fleet CA and device certificates");
  pki->require_subcommand(1);

  CLI::App* init = pki->add_subcommand(
      "init", "Create a fleet CA (ca.key 0600, ca.crt) and the coordinator's server certificate");
  init->add_option("dir", args->dir, "Folder to create the PKI in")->required();
  init->add_option("--server-name", args->server_names,
                   "DNS name or IP address clients use to reach the coordinator (repeatable)")
      ->required();
  init->add_option("--ca-days", args->validity.ca_days, "CA validity in days")
      ->capture_default_str();
  init->add_option("--server-days", args->validity.server_days,
                   "Server certificate validity in days")
      ->capture_default_str();
  init->callback([args, action] {
    *action = [args] {
      absl::Status s = InitPkiFolder(args->dir, args->server_names, args->validity);
      if (!s.ok()) return Fail(s);
      std::cout << "fleet CA: " << args->dir << "/ca.crt (key " << args->dir
                << "/ca.key, keep it offline)\nserver certificate: " << args->dir
                << "/server.crt\n";
      return 0;
    };
  });

  CLI::App* issue =
      pki->add_subcommand("issue", "Issue a device key and certificate signed by the fleet CA");
  issue->add_option("device", args->device_id, "Device id (becomes the certificate's CN and SAN)")
      ->required();
  issue->add_option("--dir", args->dir, "PKI folder made by `pki init`")->capture_default_str();
  issue->add_option("--days", args->validity.device_days, "Validity in days")
      ->capture_default_str();
  issue->add_flag("--replace", args->replace, "Replace an existing certificate for this device");
  issue->callback([args, action] {
    *action = [args] {
      absl::StatusOr<std::string> path = IssueDeviceInFolder(
          args->dir, args->device_id, args->validity.device_days, args->replace);
      if (!path.ok()) return Fail(path.status());
      std::cout << "device certificate: " << *path << "\n";
      return 0;
    };
  });
}

}  // namespace tacit::coordinator
