// `tacit-coordinator pki init|issue|revoke|list`: a fleet CA, certificates
// and their revocation.

#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/cli_commands.h"
#include "coordinator/pki.h"
#include "coordinator/pki_revocation.h"

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

std::string UtcDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm = {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int PrintList(const std::string& dir) {
  absl::StatusOr<std::vector<ListedCertificate>> rows = ListCertificatesInFolder(dir);
  if (!rows.ok()) return Fail(rows.status());
  std::cout << std::left << std::setw(24) << "DEVICE" << std::setw(34) << "SERIAL" << std::setw(22)
            << "NOT AFTER"
            << "STATUS\n";
  for (const ListedCertificate& row : *rows) {
    const char* status = row.revoked ? "revoked" : row.expired ? "expired" : "valid";
    std::cout << std::setw(24) << row.certificate.device_id << std::setw(34)
              << row.certificate.serial_hex << std::setw(22) << UtcDate(row.certificate.not_after)
              << status << "\n";
  }
  return 0;
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

  CLI::App* revoke = pki->add_subcommand(
      "revoke",
      "Revoke every certificate issued to a device (its serials go on DIR/revoked.txt; a running "
      "coordinator refuses them on the next call)");
  revoke->add_option("device", args->device_id, "Device id")->required();
  revoke->add_option("--dir", args->dir, "PKI folder made by `pki init`")->capture_default_str();
  revoke->callback([args, action] {
    *action = [args] {
      absl::StatusOr<std::vector<std::string>> serials =
          RevokeDeviceInFolder(args->dir, args->device_id);
      if (!serials.ok()) return Fail(serials.status());
      if (serials->empty()) {
        std::cout << "device " << args->device_id << ": every certificate was already revoked\n";
      }
      for (const std::string& serial : *serials) {
        std::cout << "revoked " << args->device_id << " serial " << serial << "\n";
      }
      return 0;
    };
  });

  CLI::App* list = pki->add_subcommand(
      "list", "List every device certificate issued (DIR/issued.log) and whether it is revoked");
  list->add_option("--dir", args->dir, "PKI folder made by `pki init`")->capture_default_str();
  list->callback([args, action] { *action = [args] { return PrintList(args->dir); }; });
}

}  // namespace tacit::coordinator
