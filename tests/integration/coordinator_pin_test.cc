// The laptop's pin on the coordinator's certificate, against the real
// coordinator and the real tacit-client daemon. The employer runs the CA, so
// it can give the coordinator's address another certificate from the same
// fleet CA; the chain check alone accepts it. The laptop pinned the
// operator's certificate at enroll and must refuse that coordinator in the
// TLS handshake: the coordinator's recording shows no request at all, and
// the laptop's audit log counts no byte sent.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "client/runtime/coordinator_pin.h"
#include "coordinator/pki.h"
#include "tests/integration/recorded_coordinator.h"

namespace tacit::testing {
namespace {

size_t MessagesReceived(const RecordedCoordinator& coordinator) {
  size_t messages = 0;
  for (const auto& [device, wire] : coordinator.recorder().ByDevice()) messages += wire.size();
  return messages;
}

TEST(CoordinatorPin, TheDaemonSendsNothingToAnotherCertificateOfTheFleetCa) {
  Fleet fleet("pin-swap");
  const std::string task = fleet.WriteTask(nlohmann::json::object());
  fleet.AddDevice("laptop", 0, 600);  // pins pki/server.crt, as the operator hands it out
  const std::string dir = fleet.ClientDir("laptop");
  const std::string pinned =
      *runtime::CertificateFingerprint(ReadFile(fleet.pki() + "/server.crt"));
  // The CA owner swaps the coordinator's certificate for another it signs
  // for the same names.
  absl::StatusOr<coordinator::KeyAndCert> swapped = coordinator::IssueServerCertificate(
      {ReadFile(fleet.pki() + "/ca.key"), ReadFile(fleet.pki() + "/ca.crt")},
      {"localhost", "127.0.0.1"}, 30);
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  std::ofstream(fleet.pki() + "/server.crt") << swapped->cert_pem;
  std::ofstream(fleet.pki() + "/server.key") << swapped->key_pem;
  const std::string presented = *runtime::CertificateFingerprint(swapped->cert_pem);
  ASSERT_NE(pinned, presented);
  RecordedCoordinator coordinator(fleet, task);
  ASSERT_NE(coordinator.server(), nullptr);
  const std::vector<std::string> eligible = {
      "--ac-power",        "yes", "--idle-minutes",    "60",
      "--battery-percent", "100", "--unknown-network", "unmetered"};

  // The daemon stops at its first check-in, with both fingerprints.
  auto client = fleet.StartClient("laptop", eligible);
  const int exit_code = client->Wait(30);
  const std::string log = ReadFile(fleet.LogPath("laptop"));
  EXPECT_NE(exit_code, 0) << log;
  EXPECT_NE(exit_code, -1) << "still running: " << log;
  EXPECT_NE(log.find("refusing the coordinator"), std::string::npos) << log;
  EXPECT_NE(log.find(pinned), std::string::npos) << log;
  EXPECT_NE(log.find(presented), std::string::npos) << log;
  EXPECT_EQ(fleet.ClientProgress("laptop").value("state", ""), "coordinator refused");
  // Nothing reached the coordinator, and the audit log counts nothing sent.
  EXPECT_EQ(MessagesReceived(coordinator), 0u);
  for (const nlohmann::json& line : AuditLines(dir)) {
    EXPECT_EQ(line.value("bytes_up", int64_t{0}), 0) << line.dump();
  }

  // The control: enrolled with the fingerprint the coordinator now presents
  // (the owner confirmed it with the operator), the same laptop checks in.
  ASSERT_EQ(
      RunTool({ToolPath("tacit-client"), "--dir", dir, "enroll", "--coordinator", fleet.address(),
               "--ca", fleet.pki() + "/ca.crt", "--cert", fleet.pki() + "/devices/laptop.crt",
               "--key", fleet.pki() + "/devices/laptop.key", "--server-name", "localhost",
               "--server-fingerprint", presented},
              nullptr),
      0);
  auto trusting = fleet.StartClient("laptop", eligible);
  EXPECT_TRUE(WaitUntil(30, [&] { return MessagesReceived(coordinator) > 0; }))
      << ReadFile(fleet.LogPath("laptop"));
  trusting->Kill(SIGTERM);
  trusting->Wait(10);
}

}  // namespace
}  // namespace tacit::testing
