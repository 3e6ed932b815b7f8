// The fleet client's connection to its coordinator, on real gRPC servers:
// waits end once the coordinator is reachable again
// (client/runtime/channel_wait.h), and enrolment's TLS check and pin
// (client/runtime/coordinator_pin.h).

#include "client/runtime/channel_wait.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "client/runtime/coordinator_pin.h"
#include "client/runtime/enrollment.h"
#include "common/file_io.h"
#include "coordinator/pki.h"
#include "tacit/v1/federation.grpc.pb.h"
#include "tests/client/temp_dir.h"

namespace tacit::runtime {
namespace {

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// gRPC builds no server without a service; every call is UNIMPLEMENTED.
v1::Federation::Service* NoCalls() {
  static v1::Federation::Service* service = new v1::Federation::Service();
  return service;
}

std::unique_ptr<grpc::Server> StartServer(const std::string& address) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(NoCalls());
  return builder.BuildAndStart();
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// Issue 19: after a coordinator restart a laptop slept out a backoff (or a
// dead coordinator's retry time) long after the port was up. A wait of a
// minute ends within seconds of the server coming up, after a random
// down time; the full wait is kept while the server stays down or up.
TEST(ChannelWait, EndsWithinSecondsOfTheCoordinatorComingBack) {
  const std::string address = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  auto channel = Channel(address);
  std::atomic<bool> stop{false};
  testing::TempDir unpaused;  // the client folder: no control.json, nothing paused
  std::mt19937 rng(std::random_device{}());
  const double down_seconds = std::uniform_real_distribution<double>(0.5, 2.0)(rng);
  SCOPED_TRACE(::testing::Message() << "down for " << down_seconds << " s");

  // The coordinator is down at the start of the wait, then comes up. The
  // daemon waits after a failed check-in: the channel tried and failed (a
  // channel that never tried is IDLE, and a wait dials nothing for it).
  (void)channel->GetState(/*try_to_connect=*/true);
  for (int i = 0; i < 100 && channel->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_TRANSIENT_FAILURE);
  auto woke = std::async(std::launch::async, [&] {
    return SleepUnlessReconnected(*channel, /*seconds=*/60, stop, unpaused.path());
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(down_seconds));
  auto up = std::chrono::steady_clock::now();
  auto server = StartServer(address);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(woke.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "still asleep 10 s after the port came up";
  EXPECT_EQ(woke.get(), WaitEnd::kReconnected);
  EXPECT_LT(SecondsSince(up), 3.0);

  // Up all along: the wait is a plain wait (a retry-after is honoured).
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(SleepUnlessReconnected(*channel, 0.6, stop, unpaused.path()), WaitEnd::kFullWait);
  EXPECT_GE(SecondsSince(start), 0.55);

  // It goes away during the wait and comes back on the same port.
  auto again = std::async(std::launch::async, [&] {
    return SleepUnlessReconnected(*channel, /*seconds=*/60, stop, unpaused.path());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server->Shutdown(std::chrono::system_clock::now());
  server.reset();
  std::this_thread::sleep_for(std::chrono::duration<double>(down_seconds));
  up = std::chrono::steady_clock::now();
  server = StartServer(address);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(again.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "still asleep 10 s after the restarted port came up";
  EXPECT_EQ(again.get(), WaitEnd::kReconnected);
  EXPECT_LT(SecondsSince(up), 3.0);

  // Down all along: the full wait, and `stop` ends it at once.
  server->Shutdown(std::chrono::system_clock::now());
  server.reset();
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(SleepUnlessReconnected(*channel, 0.6, stop, unpaused.path()), WaitEnd::kFullWait);
  EXPECT_GE(SecondsSince(start), 0.55);
  stop.store(true);
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(SleepUnlessReconnected(*channel, 60, stop, unpaused.path()), WaitEnd::kFullWait);
  EXPECT_LT(SecondsSince(start), 1.0);
}

// A coordinator on loopback with the fleet PKI's server certificate,
// requiring a device certificate from the same CA, as `serve` does.
std::unique_ptr<grpc::Server> StartTlsServer(const std::string& address, const std::string& pki) {
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = *ReadFileToString(pki + "/ca.crt");
  tls.pem_key_cert_pairs.push_back(
      {*ReadFileToString(pki + "/server.key"), *ReadFileToString(pki + "/server.crt")});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::SslServerCredentials(tls));
  builder.RegisterService(NoCalls());
  return builder.BuildAndStart();
}

// Issue 19: `enroll` accepted an unreachable coordinator and exited 0, and
// nothing on the laptop checked which coordinator it talked to later.
TEST(CoordinatorPin, TheHandshakeShowsTheCertificateAndThePinRefusesAnyOther) {
  testing::TempDir pki, other_pki, laptop;
  ASSERT_TRUE(coordinator::InitPkiFolder(pki.path(), {"localhost", "127.0.0.1"}).ok());
  ASSERT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-1", 30).ok());
  // Another coordinator's certificate: what an employer running the CA could present.
  ASSERT_TRUE(coordinator::InitPkiFolder(other_pki.path(), {"127.0.0.1"}).ok());
  ASSERT_TRUE(Enroll(laptop.path(), "127.0.0.1:1", pki.File("ca.crt"),
                     pki.File("devices/laptop-1.crt"), pki.File("devices/laptop-1.key"), "")
                  .ok());
  absl::StatusOr<Enrollment> enrollment = LoadEnrollment(laptop.path());
  ASSERT_TRUE(enrollment.ok()) << enrollment.status();

  // Nothing listens: refused at once, naming the address.
  enrollment->coordinator = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> nobody = FetchCoordinatorCertificate(*enrollment, 5);
  EXPECT_EQ(nobody.status().code(), absl::StatusCode::kUnavailable) << nobody.status();
  EXPECT_NE(nobody.status().message().find(enrollment->coordinator), std::string::npos);
  EXPECT_LT(SecondsSince(start), 5.0);

  auto server = StartTlsServer(enrollment->coordinator, pki.path());
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> presented = FetchCoordinatorCertificate(*enrollment, 5);
  ASSERT_TRUE(presented.ok()) << presented.status();
  absl::StatusOr<std::string> fingerprint = CertificateFingerprint(*presented);
  ASSERT_TRUE(fingerprint.ok()) << fingerprint.status();
  EXPECT_EQ(*fingerprint, *CertificateFingerprint(*ReadFileToString(pki.File("server.crt"))));
  EXPECT_EQ(fingerprint->size(), 32u * 3 - 1);  // AB:CD:...
  EXPECT_TRUE(CheckPinnedCertificate(*fingerprint, *presented).ok());

  // The pin is stored (colons and case are not significant) and loaded.
  std::string bare = *fingerprint;
  bare.erase(std::remove(bare.begin(), bare.end(), ':'), bare.end());
  ASSERT_TRUE(PinCoordinator(laptop.path(), absl::AsciiStrToLower(bare)).ok());
  EXPECT_EQ(LoadEnrollment(laptop.path())->server_sha256, *fingerprint);
  EXPECT_FALSE(PinCoordinator(laptop.path(), bare.substr(2)).ok());
  EXPECT_FALSE(PinCoordinator(laptop.path(), "zz" + bare.substr(2)).ok());

  // A certificate that does not name the dialled address fails the handshake.
  Enrollment by_name = *enrollment;
  by_name.server_name = "coord.example.com";
  EXPECT_EQ(FetchCoordinatorCertificate(by_name, 5).status().code(),
            absl::StatusCode::kPermissionDenied);

  // Another certificate, even a valid one, is refused against the pin.
  absl::Status other =
      CheckPinnedCertificate(*fingerprint, *ReadFileToString(other_pki.File("server.crt")));
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied) << other;
  EXPECT_NE(other.message().find(*fingerprint), std::string::npos) << other;
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace tacit::runtime
