// The fleet client's connection to its coordinator, on real gRPC servers:
// waits end once the coordinator is reachable again
// (client/runtime/channel_wait.h), and the laptop's check of the coordinator
// in every TLS handshake (client/runtime/coordinator_pin.h, fleet_channel.h).

#include "client/runtime/channel_wait.h"

#include <arpa/inet.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "client/runtime/coordinator_pin.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/fleet_channel.h"
#include "common/file_io.h"
#include "coordinator/pki.h"
#include "tacit/v1/federation.grpc.pb.h"
#include "tests/client/temp_dir.h"
#include "tests/support/test_seed.h"

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
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
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

// Counts every call a coordinator receives, whatever its method (each is
// answered UNIMPLEMENTED): what a coordinator would have learnt.
class CountingCoordinator : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      methods_.push_back(ctx->method());
    }
    return grpc::CallbackGenericService::CreateReactor(ctx);
  }
  std::vector<std::string> methods() const {
    std::lock_guard<std::mutex> lock(mu_);
    return methods_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> methods_;
};

// A coordinator on loopback presenting `server` (key and certificate),
// requiring a device certificate from the CA `ca_pem`, as `serve` does.
std::unique_ptr<grpc::Server> StartTlsServer(const std::string& address, const std::string& ca_pem,
                                             const coordinator::KeyAndCert& server,
                                             grpc::CallbackGenericService* service) {
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = ca_pem;
  tls.pem_key_cert_pairs.push_back({server.key_pem, server.cert_pem});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::SslServerCredentials(tls));
  builder.RegisterCallbackGenericService(service);
  return builder.BuildAndStart();
}

// A fleet PKI folder (server names localhost and 127.0.0.1) with one device
// enrolled at `address`, unpinned.
struct EnrolledLaptop {
  testing::TempDir pki, dir;
  coordinator::KeyAndCert ca, server;
  Enrollment enrollment;

  explicit EnrolledLaptop(const std::string& address, const std::string& server_name = "") {
    EXPECT_TRUE(coordinator::InitPkiFolder(pki.path(), {"localhost", "127.0.0.1"}).ok());
    EXPECT_TRUE(coordinator::IssueDeviceInFolder(pki.path(), "laptop-1", 30).ok());
    ca = {*ReadFileToString(pki.File("ca.key")), *ReadFileToString(pki.File("ca.crt"))};
    server = {*ReadFileToString(pki.File("server.key")), *ReadFileToString(pki.File("server.crt"))};
    EXPECT_TRUE(Enroll(dir.path(), address, pki.File("ca.crt"), pki.File("devices/laptop-1.crt"),
                       pki.File("devices/laptop-1.key"), server_name)
                    .ok());
    absl::StatusOr<Enrollment> loaded = LoadEnrollment(dir.path());
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (loaded.ok()) enrollment = *loaded;
  }
};

// Every RPC of the Federation service, once each, in a random order: their
// statuses by method.
std::map<std::string, grpc::Status> CallEveryMethod(v1::Federation::Stub& stub, uint32_t seed) {
  std::vector<std::pair<std::string, std::function<grpc::Status(grpc::ClientContext*)>>> calls = {
      {"CheckIn",
       [&](grpc::ClientContext* c) {
         v1::CheckInResponse r;
         return stub.CheckIn(c, v1::CheckInRequest(), &r);
       }},
      {"DownloadModel",
       [&](grpc::ClientContext* c) {
         auto reader = stub.DownloadModel(c, v1::DownloadModelRequest());
         v1::ModelChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
      {"NextMessage",
       [&](grpc::ClientContext* c) {
         v1::NextMessageResponse r;
         return stub.NextMessage(c, v1::NextMessageRequest(), &r);
       }},
      {"Submit",
       [&](grpc::ClientContext* c) {
         v1::SubmitResponse r;
         return stub.Submit(c, v1::SubmitRequest(), &r);
       }},
      {"RoundResult", [&](grpc::ClientContext* c) {
         v1::RoundResultResponse r;
         return stub.RoundResult(c, v1::RoundResultRequest(), &r);
       }}};
  std::shuffle(calls.begin(), calls.end(), std::mt19937(seed));
  std::map<std::string, grpc::Status> statuses;
  for (auto& [method, call] : calls) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    statuses[method] = call(&context);
  }
  return statuses;
}

// The reviewer's attack on issue 19's pin: the employer runs the CA, so it
// can give the coordinator's address a new certificate from the same fleet
// CA (the chain check alone accepts it). The pin was compared after the
// check-in had left, and never for the round RPCs. Now no call of any
// method reaches a coordinator whose certificate is not the pinned one;
// the pinned one, and an enrollment from before pinning, still connect.
TEST(CoordinatorPin, ACertificateFromTheSameCaButNotPinnedReceivesNoCall) {
  const std::string address = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  EnrolledLaptop laptop(address, /*server_name=*/"localhost");
  absl::StatusOr<coordinator::KeyAndCert> swapped =
      coordinator::IssueServerCertificate(laptop.ca, {"localhost", "127.0.0.1"}, 30);
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  absl::StatusOr<std::string> pinned = CertificateFingerprint(laptop.server.cert_pem);
  absl::StatusOr<std::string> other = CertificateFingerprint(swapped->cert_pem);
  ASSERT_TRUE(pinned.ok() && other.ok());
  ASSERT_NE(*pinned, *other);
  // The laptop pinned the operator's certificate at enroll.
  Enrollment enrollment = laptop.enrollment;
  enrollment.server_sha256 = *pinned;
  ASSERT_TRUE(SaveEnrollment(laptop.dir.path(), enrollment).ok());
  ASSERT_EQ(LoadEnrollment(laptop.dir.path())->server_sha256, *pinned);

  CountingCoordinator impostor;
  auto server = StartTlsServer(address, laptop.ca.cert_pem, *swapped, &impostor);
  ASSERT_NE(server, nullptr);
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message()
               << "call order seed " << seed << " (TACIT_TEST_SEED replays it)");
  auto handshakes = std::make_shared<CoordinatorHandshakes>();
  auto stub = v1::Federation::NewStub(OpenFleetChannel(enrollment, handshakes));
  for (const auto& [method, status] : CallEveryMethod(*stub, seed)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << method << ": " << status.error_message();
  }
  EXPECT_TRUE(impostor.methods().empty()) << "the impostor received " << impostor.methods().size()
                                          << " call(s), first " << impostor.methods().front();
  absl::Status refused = handshakes->latest_refusal();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_NE(refused.message().find(*pinned), std::string::npos) << refused;
  EXPECT_NE(refused.message().find(*other), std::string::npos) << refused;
  EXPECT_GE(handshakes->refusals(), 1);
  EXPECT_TRUE(handshakes->last_accepted().empty());

  // The control: pinned to the certificate it presents, every call reaches
  // it (the target-name override "localhost" is checked too).
  enrollment.server_sha256 = *other;
  auto trusting = v1::Federation::NewStub(OpenFleetChannel(enrollment));
  for (const auto& [method, status] : CallEveryMethod(*trusting, seed)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << method << ": " << status.error_message();
  }
  EXPECT_EQ(impostor.methods().size(), 5u);
  // An enrollment from before pinning keeps working on the chain and name.
  enrollment.server_sha256.clear();
  v1::CheckInResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(v1::Federation::NewStub(OpenFleetChannel(enrollment))
                ->CheckIn(&context, v1::CheckInRequest(), &response)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(impostor.methods().size(), 6u);
  server->Shutdown(std::chrono::system_clock::now());
}

// The fingerprint checks on their own: any other certificate, a fingerprint
// in any case and with or without colons, and the name check.
TEST(CoordinatorPin, ThePinAndTheNameAreCheckedOnThePresentedCertificate) {
  EnrolledLaptop laptop("127.0.0.1:1");
  absl::StatusOr<std::string> fingerprint = CertificateFingerprint(laptop.server.cert_pem);
  ASSERT_TRUE(fingerprint.ok()) << fingerprint.status();
  EXPECT_EQ(fingerprint->size(), 32u * 3 - 1);  // AB:CD:...
  EXPECT_TRUE(CheckPinnedCertificate(*fingerprint, laptop.server.cert_pem).ok());
  std::string bare = *fingerprint;
  bare.erase(std::remove(bare.begin(), bare.end(), ':'), bare.end());
  EXPECT_EQ(*NormalizeFingerprint(absl::AsciiStrToLower(bare)), *fingerprint);
  EXPECT_FALSE(NormalizeFingerprint(bare.substr(2)).ok());
  EXPECT_FALSE(NormalizeFingerprint("zz" + bare.substr(2)).ok());

  Enrollment e = laptop.enrollment;
  e.server_sha256 = *fingerprint;
  EXPECT_TRUE(CheckPresentedCoordinator(e, laptop.server.cert_pem).ok());
  // The certificate names 127.0.0.1 and localhost, not another host.
  Enrollment by_name = e;
  by_name.server_name = "coord.example.com";
  EXPECT_EQ(CheckPresentedCoordinator(by_name, laptop.server.cert_pem).code(),
            absl::StatusCode::kPermissionDenied);
  by_name.server_name = "localhost";
  EXPECT_TRUE(CheckPresentedCoordinator(by_name, laptop.server.cert_pem).ok());
  // Any other certificate, even from the same CA, against the pin.
  absl::StatusOr<coordinator::KeyAndCert> swapped =
      coordinator::IssueServerCertificate(laptop.ca, {"127.0.0.1"}, 30);
  ASSERT_TRUE(swapped.ok());
  absl::Status other = CheckPresentedCoordinator(e, swapped->cert_pem);
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied) << other;
  EXPECT_NE(other.message().find(*fingerprint), std::string::npos) << other;
  e.server_sha256.clear();
  EXPECT_TRUE(CheckPresentedCoordinator(e, swapped->cert_pem).ok());
}

// Issue 19: `enroll` accepted an unreachable coordinator and exited 0. The
// certificate is now fetched over the fleet channel itself (no call made):
// nothing listening, a certificate from another CA and one that does not
// name the address are refused; the coordinator's own is returned.
TEST(CoordinatorPin, EnrollSeesTheCertificateThroughTheFleetChannel) {
  const std::string address = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  EnrolledLaptop laptop(address);
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> nobody = FetchCoordinatorCertificate(laptop.enrollment, 5);
  EXPECT_EQ(nobody.status().code(), absl::StatusCode::kUnavailable) << nobody.status();
  EXPECT_NE(nobody.status().message().find(address), std::string::npos);
  EXPECT_LT(SecondsSince(start), 2.0);  // one attempt, refused at once

  CountingCoordinator coordinator;
  auto server = StartTlsServer(address, laptop.ca.cert_pem, laptop.server, &coordinator);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> presented = FetchCoordinatorCertificate(laptop.enrollment, 5);
  ASSERT_TRUE(presented.ok()) << presented.status();
  EXPECT_EQ(*CertificateFingerprint(*presented), *CertificateFingerprint(laptop.server.cert_pem));
  Enrollment by_name = laptop.enrollment;
  by_name.server_name = "coord.example.com";
  EXPECT_EQ(FetchCoordinatorCertificate(by_name, 5).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(coordinator.methods().empty());
  server->Shutdown(std::chrono::system_clock::now());

  // Another fleet's coordinator on the same address: its chain fails.
  EnrolledLaptop other_fleet(address);
  CountingCoordinator foreign;
  server = StartTlsServer(address, laptop.ca.cert_pem, other_fleet.server, &foreign);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(FetchCoordinatorCertificate(laptop.enrollment, 2).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(foreign.methods().empty());
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace tacit::runtime
